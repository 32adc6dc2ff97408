/**
 * The admin's spend windows are the limits' windows: day, week and month start at midnight in
 * `limits.timezone`, not in UTC, so the overview and the key list agree with what a limit refuses.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/load'
import { createGateway, type Gateway } from '../../src/gateway'
import { requestLog } from '../../src/db/schema'
import { adminUsers } from '../../src/db/schema-admin'
import { windowStarts } from '../../src/admin/windows'
import { adminToml, request, sessionFor, type Caller } from './fixture'

// 2026-03-11 01:00 in Tokyo (UTC+9) is still 2026-03-10 in UTC.
const NOW = Date.UTC(2026, 2, 10, 16, 0)
const EARLIER_TOKYO_DAY = Date.UTC(2026, 2, 10, 10, 0) // 19:00 on the 10th in Tokyo
const SAME_TOKYO_DAY = Date.UTC(2026, 2, 10, 15, 30) // 00:30 on the 11th in Tokyo

let gw: Gateway
let root: Caller
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tollgate-admin-windows-'))
  const toml = `${adminToml()}\n[limits]\ntimezone = "Asia/Tokyo"\n\n[database]\nurl = "file:${join(dir, 'admin.db')}"\n`
  const quiet = console.log
  console.log = () => {}
  try {
    gw = await createGateway(await parseConfig(toml, 'test.toml', process.env), { logOutput: { write: async () => {} } })
  } finally {
    console.log = quiet
  }
  const db = gw.database.db
  await db.insert(adminUsers).values({ id: 'root', role: 'admin', createdAt: NOW })
  await gw.admin!.ctx.dir.reload()
  gw.admin!.ctx.now = () => NOW
  root = await sessionFor(gw, 'root')
  const row = (id: string, ts: number, cost: number) => ({ id, ts, keyId: 'cfg-key', project: 'default', method: 'POST', path: '/openai/chat/completions', status: 200, durationMs: 1, costNanos: cost })
  await db.insert(requestLog).values([row('r-before', EARLIER_TOKYO_DAY, 700), row('r-today', SAME_TOKYO_DAY, 500)])
})
afterAll(async () => {
  await gw?.close()
  rmSync(dir, { recursive: true, force: true })
})

test('window starts are midnights in the zone', () => {
  expect(windowStarts(NOW, 'Asia/Tokyo')).toEqual({ day: Date.UTC(2026, 2, 10, 15), week: Date.UTC(2026, 2, 8, 15), month: Date.UTC(2026, 1, 28, 15) })
  expect(windowStarts(NOW, 'UTC')).toEqual({ day: Date.UTC(2026, 2, 10), week: Date.UTC(2026, 2, 9), month: Date.UTC(2026, 2, 1) })
})

test('usage summary and key spend count the day in limits.timezone', async () => {
  const summary = (await request(gw, root, 'GET', '/admin/api/v1/usage/summary?project=default')).json
  expect(summary.day.start).toBe(Date.UTC(2026, 2, 10, 15))
  expect(summary.day.spend_nanos).toBe(500)
  expect(summary.day.requests).toBe(1)
  expect(summary.month.spend_nanos).toBe(1200)
  const keys = (await request(gw, root, 'GET', '/admin/api/v1/keys?project=default')).json.keys as { id: string; spend: { day_nanos: number; month_nanos: number } }[]
  const key = keys.find((k) => k.id === 'cfg-key')!
  expect(key.spend.day_nanos).toBe(500)
  expect(key.spend.month_nanos).toBe(1200)
})

test('the series buckets days at midnight in limits.timezone, and says so', async () => {
  const from = Date.UTC(2026, 2, 8, 0, 0)
  const r = (await request(gw, root, 'GET', `/admin/api/v1/usage/series?project=default&bucket=day&from=${from}&to=${NOW + 1}`)).json
  expect(r.timezone).toBe('Asia/Tokyo')
  // Midnights in Tokyo (15:00 UTC the day before), from the one at or before \`from\`.
  expect(r.starts).toEqual([7, 8, 9, 10].map((d) => Date.UTC(2026, 2, d, 15)))
  const byDay = new Map((r.points as { t: number; spend_nanos: number }[]).map((p) => [p.t, p.spend_nanos]))
  expect(byDay.get(Date.UTC(2026, 2, 9, 15))).toBe(700)
  expect(byDay.get(Date.UTC(2026, 2, 10, 15))).toBe(500)
})

test('day buckets follow a DST change (a 23-hour day) in the zone', async () => {
  // America/New_York moves to daylight time at 02:00 on 2026-03-08.
  gw.admin!.ctx.config = { ...gw.admin!.ctx.config, limits: { ...gw.admin!.ctx.config.limits, timezone: 'America/New_York' } }
  try {
    const r = (await request(gw, root, 'GET', `/admin/api/v1/usage/series?project=default&bucket=day&from=${Date.UTC(2026, 2, 7, 12)}&to=${Date.UTC(2026, 2, 10, 20)}`)).json
    expect(r.starts).toEqual([Date.UTC(2026, 2, 7, 5), Date.UTC(2026, 2, 8, 5), Date.UTC(2026, 2, 9, 4), Date.UTC(2026, 2, 10, 4)])
    const byDay = new Map((r.points as { t: number; spend_nanos: number }[]).map((p) => [p.t, p.spend_nanos]))
    // 06:00 and 11:30 New York time on the 10th.
    expect(byDay.get(Date.UTC(2026, 2, 10, 4))).toBe(1200)
  } finally {
    gw.admin!.ctx.config = { ...gw.admin!.ctx.config, limits: { ...gw.admin!.ctx.config.limits, timezone: 'Asia/Tokyo' } }
  }
})

test('hour buckets start on the hour of a zone half an hour off UTC', async () => {
  // Asia/Kolkata is UTC+5:30: its hours start at :30 past UTC hours.
  gw.admin!.ctx.config = { ...gw.admin!.ctx.config, limits: { ...gw.admin!.ctx.config.limits, timezone: 'Asia/Kolkata' } }
  try {
    const r = (await request(gw, root, 'GET', `/admin/api/v1/usage/series?project=default&bucket=hour&from=${Date.UTC(2026, 2, 10, 9, 45)}&to=${Date.UTC(2026, 2, 10, 16)}`)).json
    expect(r.starts).toEqual([9, 10, 11, 12, 13, 14, 15].map((h) => Date.UTC(2026, 2, 10, h, 30)))
    const byHour = new Map((r.points as { t: number; spend_nanos: number }[]).map((p) => [p.t, p.spend_nanos]))
    // 10:00 UTC is 15:30 in Kolkata, the first minute of its 15:30–16:30 hour; 15:30 UTC is 21:00 there.
    expect(byHour.get(Date.UTC(2026, 2, 10, 9, 30))).toBe(700)
    expect(byHour.get(Date.UTC(2026, 2, 10, 15, 30))).toBe(500)
    // Minutes are minutes everywhere.
    const m = (await request(gw, root, 'GET', `/admin/api/v1/usage/series?project=default&bucket=minute&from=${Date.UTC(2026, 2, 10, 9, 59, 30)}&to=${Date.UTC(2026, 2, 10, 10, 2)}`)).json
    expect(m.starts).toEqual([59, 60, 61].map((min) => Date.UTC(2026, 2, 10, 9, min)))
  } finally {
    gw.admin!.ctx.config = { ...gw.admin!.ctx.config, limits: { ...gw.admin!.ctx.config.limits, timezone: 'Asia/Tokyo' } }
  }
})

test('minute and hour buckets stay fixed widths', async () => {
  const r = (await request(gw, root, 'GET', `/admin/api/v1/usage/series?project=default&bucket=hour&from=${Date.UTC(2026, 2, 10, 9, 30)}&to=${Date.UTC(2026, 2, 10, 16)}`)).json
  expect(r.starts).toEqual([9, 10, 11, 12, 13, 14, 15].map((h) => Date.UTC(2026, 2, 10, h)))
  const byHour = new Map((r.points as { t: number; spend_nanos: number }[]).map((p) => [p.t, p.spend_nanos]))
  expect(byHour.get(Date.UTC(2026, 2, 10, 10))).toBe(700)
  expect(byHour.get(Date.UTC(2026, 2, 10, 15))).toBe(500)
})
