/**
 * `[log] retention_days`: request-log rows older than the retention are deleted (in batches,
 * however many there are), newer ones and the whole spend ledger stay; 0 keeps everything; a
 * reload changes the retention without a restart. On libSQL and on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { parseConfig } from '../../src/config/load'
import { requestLog } from '../../src/db/schema'
import { RequestLogRetention } from '../../src/log/retention'
import { spendLedger } from '../../src/db/schema-spend'
import { basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { skipWithoutPostgres } from '../support/postgres'
import { eventually } from '../spend/helpers'

const DAY = 86_400_000
const noPg = skipWithoutPostgres('request-log retention on PostgreSQL')

const BASE = basicConfig(`[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "http://127.0.0.1:9/v1"\napi_key = "sk-test-retention"\n`, `[admin]\nenabled = false\n[logging]\nlevel = "off"\n`)

for (const engine of ['libsql', 'postgres'] as const) {
  describe.skipIf(engine === 'postgres' && !!noPg)(`request-log retention: ${engine}`, () => {
    let gateway: TestGateway
    beforeAll(async () => {
      gateway = await startGateway(BASE, { database: engine })
    })
    afterAll(async () => {
      await gateway?.stop()
    })

    const db = () => gateway.gw.database.db
    const row = (id: string, ts: number) => ({ id, ts, method: 'POST', path: '/openai/chat/completions', status: 200, durationMs: 1 })
    const ids = async () => (await db().select({ id: requestLog.id }).from(requestLog)).map((r) => r.id).sort()

    test('0 keeps every row; a retention deletes the older rows only, and never the spend ledger', async () => {
      const now = Date.now()
      await db().insert(requestLog).values([row('old', now - 31 * DAY), row('recent', now - 29 * DAY), row('new', now - 3_600_000)])
      await db().insert(spendLedger).values({ id: 'old', requestId: 'old', ts: now - 31 * DAY, keyId: 'test-key', project: 'default', state: 'settled', reservedNanos: 0, costNanos: 5 })
      expect(await gateway.gw.retention.prune()).toBe(0)
      expect(await ids()).toEqual(['new', 'old', 'recent'])

      // A reload sets it live (no restart), and a shorter retention prunes at once.
      // The file as startGateway wrote it, with a retention: nothing else changes.
      const next = await parseConfig(`${BASE}\n[database]\nurl = "${gateway.databaseUrl}"\n[log]\nflush_interval_ms = 50\nretention_days = 30\n`, 'reloaded.toml', {})
      const notes = await gateway.gw.reload(next)
      expect(notes.join(' ')).not.toContain('log')
      // The reload itself prunes (the hourly run is far off).
      await eventually(async () => !(await ids()).includes('old'))
      expect(await ids()).toEqual(['new', 'recent'])
      expect((await db().select({ id: spendLedger.id }).from(spendLedger)).map((r) => r.id)).toEqual(['old'])
    })

    test('a backlog larger than one batch is deleted whole', async () => {
      const now = Date.now()
      const old = Array.from({ length: 12_345 }, (_, i) => row(`bulk-${i}`, now - 40 * DAY - i))
      for (let i = 0; i < old.length; i += 1000) await db().insert(requestLog).values(old.slice(i, i + 1000))
      expect(await gateway.gw.retention.prune()).toBe(12_345)
      expect(await ids()).toEqual(['new', 'recent'])
    })

    test('a stop (shutdown) ends a long backlog after the batch in progress', async () => {
      const now = Date.now()
      const old = Array.from({ length: 12_000 }, (_, i) => row(`late-${i}`, now - 50 * DAY - i))
      for (let i = 0; i < old.length; i += 1000) await db().insert(requestLog).values(old.slice(i, i + 1000))
      const retention = new RequestLogRetention(db(), 30, Date.now, () => {})
      const pruning = retention.prune()
      await retention.stop()
      expect(await pruning).toBe(5_000)
      expect((await ids()).length).toBe(2 + 7_000)
      await gateway.gw.retention.prune()
    })
  })
}
