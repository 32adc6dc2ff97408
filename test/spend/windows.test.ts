/**
 * Calendar windows with an injected clock: month end, leap day, ISO week start, year end,
 * DST and a zone with a half-hour offset; the same answers under a non-UTC process TZ;
 * and a reservation that settles after midnight lands in the window it reserved in.
 */
import { describe, expect, test } from 'bun:test'
import { Budget, isDenial, scopeKey } from '../../src/spend/budget'
import { windowAt, type WindowKind } from '../../src/spend/windows'

const at = (iso: string) => Date.parse(iso)
const span = (k: WindowKind, iso: string, zone = 'UTC') => {
  const w = windowAt(k, at(iso), zone)
  return [new Date(w.start).toISOString(), new Date(w.end).toISOString()]
}

const CASES: [WindowKind, string, string, string, string][] = [
  ['month', '2025-01-31T23:59:59.999Z', 'UTC', '2025-01-01T00:00:00.000Z', '2025-02-01T00:00:00.000Z'],
  ['month', '2025-02-01T00:00:00.000Z', 'UTC', '2025-02-01T00:00:00.000Z', '2025-03-01T00:00:00.000Z'],
  ['day', '2024-02-29T12:00:00.000Z', 'UTC', '2024-02-29T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
  ['month', '2024-02-29T23:59:59.000Z', 'UTC', '2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
  ['week', '2024-03-03T23:59:59.999Z', 'UTC', '2024-02-26T00:00:00.000Z', '2024-03-04T00:00:00.000Z'],
  ['week', '2024-03-04T00:00:00.000Z', 'UTC', '2024-03-04T00:00:00.000Z', '2024-03-11T00:00:00.000Z'],
  ['day', '2024-12-31T23:59:59.999Z', 'UTC', '2024-12-31T00:00:00.000Z', '2025-01-01T00:00:00.000Z'],
  ['week', '2025-01-01T10:00:00.000Z', 'UTC', '2024-12-30T00:00:00.000Z', '2025-01-06T00:00:00.000Z'],
  ['month', '2024-12-15T00:00:00.000Z', 'UTC', '2024-12-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'],
  // New York: the day of the spring-forward change is 23 hours long.
  ['day', '2024-03-10T12:00:00.000Z', 'America/New_York', '2024-03-10T05:00:00.000Z', '2024-03-11T04:00:00.000Z'],
  // 03:00Z on 1 Jan is still 31 Dec in New York.
  ['month', '2025-01-01T03:00:00.000Z', 'America/New_York', '2024-12-01T05:00:00.000Z', '2025-01-01T05:00:00.000Z'],
  ['day', '2024-01-15T12:00:00.000Z', 'Asia/Kolkata', '2024-01-14T18:30:00.000Z', '2024-01-15T18:30:00.000Z'],
  // Santiago skips midnight on 8 Sep 2024: the day starts at 01:00 local.
  ['day', '2024-09-08T12:00:00.000Z', 'America/Santiago', '2024-09-08T04:00:00.000Z', '2024-09-09T03:00:00.000Z'],
]

describe('calendar windows', () => {
  for (const [k, t, zone, start, end] of CASES) {
    test(`${k} of ${t} in ${zone}`, () => expect(span(k, t, zone)).toEqual([start, end]))
  }

  test('the answers do not depend on the process TZ', async () => {
    const script = `import { windowAt } from '${import.meta.dir}/../../src/spend/windows'\n` +
      `const cases = ${JSON.stringify(CASES)}\n` +
      `console.log(JSON.stringify(cases.map(([k, t, z]) => { const w = windowAt(k, Date.parse(t), z); return [new Date(w.start).toISOString(), new Date(w.end).toISOString()] })))`
    const file = `${import.meta.dir}/.tz-probe-${process.pid}.ts`
    await Bun.write(file, script)
    try {
      for (const tz of ['Pacific/Kiritimati', 'America/St_Johns']) {
        const p = Bun.spawn([process.execPath, file], { env: { ...process.env, TZ: tz }, stdout: 'pipe' })
        const out = JSON.parse(await new Response(p.stdout).text())
        expect(await p.exited).toBe(0)
        expect(out).toEqual(CASES.map((c) => [c[3], c[4]]))
      }
    } finally {
      await Bun.file(file).delete()
    }
  })
})

describe('budget windows with an injected clock', () => {
  test('a reservation settled after midnight lands in the day it reserved in', () => {
    let now = at('2025-01-31T23:59:59.900Z')
    const b = new Budget('UTC', () => now)
    const scopes = [{ kind: 'key' as const, id: 'k', limits: { day: 1000, month: 5000 } }]
    const r = b.tryReserve(scopes, 600)
    if (isDenial(r)) throw new Error('denied')
    now = at('2025-02-01T00:00:00.100Z')
    // A new day and a new month start empty: the reservation does not hold them.
    expect(b.state(scopeKey('key', 'k')).windows.day).toMatchObject({ spent: 0, reserved: 0 })
    b.settle(r, 500)
    const st = b.state(scopeKey('key', 'k'))
    expect(st.windows.day.spent).toBe(0)
    expect(st.windows.month.spent).toBe(0)
    expect(st.windows.total.spent).toBe(500)
    expect(st.inflight).toBe(0)
  })

  test('the last cents: admitted only with nothing in flight, and refused once spent', () => {
    const now = at('2024-02-29T10:00:00Z')
    const b = new Budget('UTC', () => now)
    const scopes = [{ kind: 'project' as const, id: 'p', limits: { day: 1000 } }]
    const a = b.tryReserve(scopes, 800)
    expect(isDenial(a)).toBe(false)
    // 800 + 300 > 1000 and one request is in flight: refused, with the day's reset time.
    const d = b.tryReserve(scopes, 300)
    expect(isDenial(d) && d.resetsAt).toBe(at('2024-03-01T00:00:00Z'))
    b.settle(a as Exclude<typeof a, { window: string }>, 800)
    // Nothing in flight and budget left (200): admitted although 300 does not fit.
    const c = b.tryReserve(scopes, 300)
    expect(isDenial(c)).toBe(false)
    b.settle(c as Exclude<typeof c, { window: string }>, 300)
    expect(b.state(scopeKey('project', 'p')).windows.day.spent).toBe(1100)
    expect(isDenial(b.tryReserve(scopes, 1))).toBe(true)
  })
})

describe('UTC without Intl', () => {
  // 'UTC' takes a fast path (Date's UTC fields); 'Etc/UTC' is the same zone through Intl.
  test('every window and local bucket matches the Intl answer', async () => {
    const { localBucketStart } = await import('../../src/spend/windows')
    for (let t = Date.parse('1999-12-31T23:59:59.999Z'); t < Date.parse('2031-01-01T00:00:00Z'); t += 86_400_000 * 17 + 3_599_123) {
      for (const k of ['day', 'week', 'month', 'total'] as const) expect(windowAt(k, t, 'UTC')).toEqual(windowAt(k, t, 'Etc/UTC'))
      expect(localBucketStart(t, 3_600_000, 'UTC')).toBe(localBucketStart(t, 3_600_000, 'Etc/UTC'))
    }
  })

  test('UTC is valid and a made-up zone is still rejected', async () => {
    const { isValidZone } = await import('../../src/spend/windows')
    expect(isValidZone('UTC')).toBe(true)
    expect(isValidZone('Europe/Berlin')).toBe(true)
    expect(isValidZone('Mars/Olympus_Mons')).toBe(false)
  })
})
