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
