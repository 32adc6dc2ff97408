/**
 * On a local file the admin's queries run on a thread of their own (src/db/off-thread.ts): an
 * aggregate over a large request log takes hundreds of milliseconds, and on the event loop it
 * would hold up every proxied request until it ended. Here a proxied request sent while the
 * overview's aggregate runs is answered first. The same connection keeps `batch` atomic and
 * reports SQLite's error codes.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import OpenAI from 'openai'
import { eq } from 'drizzle-orm'
import { adminProjects } from '../../src/db/schema-admin'
import type { Gateway } from '../../src/gateway'
import type { Listening } from '../../src/server'
import { CANARY, listenQuietly } from '../support/gateway'
import { loadCassette } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'
import { adminToml, request, sessionFor, startAdminGateway, type Caller } from './fixture'

/** Enough rows that the overview's aggregate takes a few hundred milliseconds. */
const ROWS = 300_000

let upstream: ReplayUpstream
let gw: Gateway
let dir: string
let server: Listening
let root: Caller

beforeAll(async () => {
  upstream = startReplayUpstream((await loadCassette('openai', 'test_max_completion_tokens[gpt-4o-mini]')).interactions)
  const provider = `\n[[providers]]\nid = "replay"\napi = "openai"\nbase_url = "${upstream.url}/v1"\napi_key = "sk-test-CANARY-offthread-provider-000000001"\n`
  ;({ gw, dir } = await startAdminGateway(adminToml(provider)))
  server = listenQuietly(gw)
  const now = Date.now()
  // Today's traffic of a busy gateway, written straight into the file.
  await gw.database.client.execute({
    sql: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
          INSERT INTO request_log (id, ts, key_id, project, provider, model, method, path, status, duration_ms, input_tokens, output_tokens, cost_nanos)
          SELECT 'bulk-' || i, ? - i, 'cfg-key', 'default', 'replay', 'gpt-4o-mini', 'POST', '/replay/chat/completions', 200, 300, 12, 9, 7200 FROM n`,
    args: [ROWS, now],
  })
  await gw.database.client.execute(`INSERT INTO admin_users (id, role, created_at) VALUES ('root', 'admin', 0)`)
  await gw.admin!.ctx.dir.reload()
  root = await sessionFor(gw, 'root')
})

afterAll(async () => {
  await server?.stop()
  upstream?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

test('a proxied request is answered while the overview aggregates a large request log', async () => {
  const order: string[] = []
  const overview = request(gw, root, 'GET', '/admin/api/v1/usage/summary').then((r) => {
    order.push('overview')
    return r
  })
  // Sent once the aggregate is under way (its session check comes first and is quick).
  await Bun.sleep(30)
  const client = new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${server.url}/replay`, maxRetries: 0 })
  const answer = client.chat.completions
    .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], max_completion_tokens: 100, stream: false })
    .then((r) => {
      order.push('proxied')
      return r
    })
  const [summary, completion] = await Promise.all([overview, answer])
  expect(completion.choices[0]!.message.content).toBeTruthy()
  expect(summary.status).toBe(200)
  expect(summary.json.day.requests).toBeGreaterThanOrEqual(Math.min(ROWS, 1))
  expect(summary.json.month.spend_nanos).toBeGreaterThanOrEqual(7200)
  expect(order).toEqual(['proxied', 'overview'])
})

test('a batch is one transaction on the admin connection; a failure names its SQLite code', async () => {
  const db = gw.admin!.ctx.db
  const row = (id: string) => ({ id, name: id, providers: ['replay'], createdAt: 1 })
  await db.insert(adminProjects).values(row('taken'))
  const failed = await db.batch([db.insert(adminProjects).values(row('fresh')), db.insert(adminProjects).values(row('taken'))]).then(
    () => undefined,
    (e: Error & { code?: string }) => e,
  )
  expect(failed?.code).toBe('SQLITE_CONSTRAINT_PRIMARYKEY')
  // The first insert went back with the second.
  expect(await db.select().from(adminProjects).where(eq(adminProjects.id, 'fresh'))).toEqual([])
  // Column codecs (JSON here) map the worker's rows as they map the libSQL driver's.
  const [got] = await db.select({ id: adminProjects.id, providers: adminProjects.providers, createdAt: adminProjects.createdAt }).from(adminProjects).where(eq(adminProjects.id, 'taken'))
  expect(got).toEqual({ id: 'taken', providers: ['replay'], createdAt: 1 })
})
