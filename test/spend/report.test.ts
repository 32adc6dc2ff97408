/**
 * Visibility and control: GET /v1/spend for admin and member keys, `tollgate spend`, and limits
 * from a reloaded config applying at once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/load'
import { RouteTable } from '../../src/proxy/routes'
import type { TestGateway } from '../support/gateway'
import { costOf, startFixedUpstream, type ScriptedUpstream } from './upstream'
import { eventually, inflight, openai, openaiProvider, spendGateway } from './helpers'

const USAGE = { prompt: 20, completion: 100 }
const ALICE = 'tg-report-alice-000000000000001'
const BOB = 'tg-report-bob-0000000000000001'
let upstream: ScriptedUpstream
let gw: TestGateway
let toml: string
beforeAll(async () => {
  upstream = startFixedUpstream({ usage: USAGE })
  toml =
    openaiProvider(upstream.url) +
    `[[projects]]\nid = "web"\nlimits = { daily = 5.0 }\n[[users]]\nid = "alice"\nrole = "admin"\nprojects = ["web"]\n[[users]]\nid = "bob"\nprojects = ["web"]\nlimits = { weekly = 2.0 }\n` +
    `[[keys]]\nid = "alice-key"\nproject = "web"\nuser = "alice"\nkey = "${ALICE}"\n[[keys]]\nid = "bob-key"\nproject = "web"\nuser = "bob"\nkey = "${BOB}"\nlimits = { total = 1.0 }\n`
  gw = await spendGateway(toml)
  await openai(gw, BOB).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
  await eventually(() => inflight(gw, 'key', 'bob-key') === 0)
})
afterAll(async () => {
  await gw.stop()
  upstream.stop()
})

type Report = { scope: string; data: { scope: string; id: string; window: string; spent_nanos: number; limit_usd: string | null; resets_at: string | null }[] }
const report = async (key: string, q = '') => {
  const res = await fetch(`${gw.url}/v1/spend${q}`, { headers: { authorization: `Bearer ${key}` } })
  return { status: res.status, body: (await res.json()) as Report }
}

describe('GET /v1/spend', () => {
  test('a member key sees its own key only', async () => {
    const { status, body } = await report(BOB)
    expect(status).toBe(200)
    expect(body.scope).toBe('key')
    expect(new Set(body.data.map((l) => `${l.scope}:${l.id}`))).toEqual(new Set(['key:bob-key']))
    const total = body.data.find((l) => l.window === 'total')!
    expect(total.spent_nanos).toBe(costOf(USAGE))
    expect(total.limit_usd).toBe('1.00')
    expect(total.resets_at).toBeNull()
    expect(body.data.find((l) => l.window === 'day')!.resets_at).toMatch(/T00:00:00.000Z$/)
  })

  test('an admin key sees every scope, and can narrow it', async () => {
    const all = (await report(ALICE, '?window=week')).body
    expect(all.scope).toBe('admin')
    expect(new Set(all.data.map((l) => `${l.scope}:${l.id}`))).toEqual(new Set(['project:web', 'user:alice', 'user:bob', 'key:alice-key', 'key:bob-key']))
    expect(all.data.find((l) => l.id === 'bob')).toMatchObject({ spent_nanos: costOf(USAGE), limit_usd: '2.00' })
    const bob = (await report(ALICE, '?user=bob&window=day')).body
    expect(new Set(bob.data.map((l) => `${l.scope}:${l.id}`))).toEqual(new Set(['user:bob', 'key:bob-key']))
    expect((await report(ALICE, '?window=year')).status).toBe(400)
    expect((await report('tg-wrong-key')).status).toBe(401)
  })
})

test('tollgate spend prints the same numbers from the ledger', async () => {
  await gw.gw.spend.ledger.flush()
  const file = join(gw.dir, 'config.toml')
  await Bun.write(file, `${toml}\n[database]\nurl = "file:${join(gw.dir, 'test.db')}"\n`)
  const p = Bun.spawn([process.execPath, 'src/cli.ts', 'spend', '--config', file, '--key', 'bob-key', '--window', 'total'], { stdout: 'pipe', stderr: 'pipe' })
  const out = await new Response(p.stdout).text()
  expect(await p.exited).toBe(0)
  expect(out).toMatch(/key\s+bob-key\s+total\s+\$0\.00105\s+\$1\.00\s+\$0\.99895/)
})

test('limits from a reloaded config apply at once', async () => {
  const next = await parseConfig(toml.replace('limits = { daily = 5.0 }', 'limits = { daily = 0.0 }') + `\n[database]\nurl = "file:${join(gw.dir, 'test.db')}"\n`)
  gw.gw.proxy.setConfig(next.config, new RouteTable(next.config))
  const e = await openai(gw, ALICE).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).then(() => undefined, (x) => x)
  expect(e?.status).toBe(429)
  expect(e.message).toContain('project "web"')
})
