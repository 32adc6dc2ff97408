/**
 * The off-thread batch writer on both engines, through its real callers: the request log
 * (`INSERT OR IGNORE`, a `user` column that PostgreSQL reserves) and the spend ledger
 * (`INSERT OR REPLACE`, latest state wins, even for one key queued twice in one flush); the credit
 * ledger's usage rows (once per ledger_id) in test/pg/credit-usage-once.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { asc } from 'drizzle-orm'
import { BatchWriter } from '../../src/db/batch-writer'
import { openDatabase, type Database } from '../../src/db/client'
import { pgStatements } from '../../src/db/pg/batch-sql'
import { sqliteInsert } from '../../src/db/sqlite-batch-sql'
import { requestLog } from '../../src/db/schema'
import { creditLedger, spendLedger } from '../../src/db/schema-spend'
import { RequestLogWriter } from '../../src/log/request-log'
import { LedgerWriter, type LedgerRow } from '../../src/spend/ledger'
import type { RequestRecord } from '../../src/proxy/record'
import { createTestDatabase, dropTestDatabase, skipWithoutPostgres } from '../support/postgres'

const noPg = skipWithoutPostgres('PostgreSQL batch writer tests')

describe('PostgreSQL statements for SQLite-worded batches', () => {
  test('INSERT OR REPLACE keeps the last row per key and updates every other column', () => {
    const [s, ...more] = pgStatements([{ verb: 'INSERT OR REPLACE INTO', table: 'spend_ledger', columns: ['"id"', '"state"', '"user"'], rows: [['a', 'reserved', 'u'], ['b', 'reserved', null], ['a', 'settled', 'u']] }])
    expect(more).toEqual([])
    expect(s!.text).toBe('INSERT INTO "spend_ledger" ("id", "state", "user") VALUES ($1,$2,$3),($4,$5,$6) ON CONFLICT ("id") DO UPDATE SET "state" = EXCLUDED."state", "user" = EXCLUDED."user"')
    expect(s!.args).toEqual(['b', 'reserved', null, 'a', 'settled', 'u'])
  })

  test('INSERT OR IGNORE becomes ON CONFLICT DO NOTHING, names are quoted, large batches are split', () => {
    const rows = Array.from({ length: 10 }, (_, i) => [`r${i}`, i])
    const out = pgStatements([{ verb: 'INSERT OR IGNORE INTO', table: 'request_log', columns: ['id', 'user'], rows }], 8)
    expect(out.map((s) => s.args.length)).toEqual([8, 8, 4])
    expect(out[0]!.text).toBe('INSERT INTO "request_log" ("id", "user") VALUES ($1,$2),($3,$4),($5,$6),($7,$8) ON CONFLICT DO NOTHING')
  })

  test('a verb with no PostgreSQL form, or a conflict key outside the columns, is refused', () => {
    expect(() => pgStatements([{ verb: 'REPLACE INTO', table: 't', columns: ['id'], rows: [[1]] }])).toThrow('no PostgreSQL form')
    expect(() => pgStatements([{ verb: 'INSERT OR REPLACE INTO', table: 't', columns: ['id'], conflict: ['other'], rows: [[1]] }])).toThrow('conflict key')
  })

  test('OR IGNORE with a conflict key skips only that key, repeating a partial index\'s WHERE (libSQL text alike)', () => {
    const b = { verb: 'INSERT OR IGNORE INTO', table: 'credit_ledger', columns: ['"kind"', '"ledger_id"'], conflict: ['"ledger_id"'], conflictWhere: "kind = 'usage'", rows: [['usage', 'r1'], ['usage', 'r1']] }
    expect(pgStatements([b])).toEqual([{ text: `INSERT INTO "credit_ledger" ("kind", "ledger_id") VALUES ($1,$2),($3,$4) ON CONFLICT ("ledger_id") WHERE kind = 'usage' DO NOTHING`, args: ['usage', 'r1', 'usage', 'r1'] }])
    expect(sqliteInsert(b, 2)).toBe(`INSERT INTO credit_ledger ("kind", "ledger_id") VALUES (?,?),(?,?) ON CONFLICT ("ledger_id") WHERE kind = 'usage' DO NOTHING`)
    expect(sqliteInsert({ ...b, conflict: undefined }, 1)).toBe(`INSERT OR IGNORE INTO credit_ledger ("kind", "ledger_id") VALUES (?,?)`)
  })
})

function record(id: string, extra: Partial<RequestRecord> = {}): RequestRecord {
  return { id, ts: 1_700_000_000_000, method: 'POST', path: '/openai/v1/chat/completions', stream: true, status: 200, durationMs: 12.4, user: 'alice', project: 'p', ...extra }
}

function ledgerRow(id: string, extra: Partial<LedgerRow> = {}): LedgerRow {
  return { id, requestId: id, ts: 1_700_000_000_000, keyId: 'k', project: 'p', user: 'alice', state: 'reserved', reservedNanos: 4_000_000_000_000, managed: true, ...extra }
}

const engines = [
  { name: 'libsql', skip: false },
  { name: 'postgres', skip: !!noPg },
]

for (const engine of engines) {
  describe.skipIf(engine.skip)(`batch writer on ${engine.name}`, () => {
    let url: string
    let dir: string
    let database: Database
    let writer: BatchWriter
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tollgate-writer-'))
      url = engine.name === 'postgres' ? await createTestDatabase('writer') : `file:${join(dir, 'w.db')}`
      database = await openDatabase(url)
      writer = new BatchWriter(url, undefined, 60_000)
    })
    afterAll(async () => {
      await writer?.close()
      await database?.close()
      if (engine.name === 'postgres') await dropTestDatabase(url)
      rmSync(dir, { recursive: true, force: true })
    })

    test('request log: rows land once, with booleans, json kept as reported, and a reserved column name', async () => {
      const log = new RequestLogWriter(writer)
      const raw = { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 }
      log.record(record('a', { usage: { tokens: { input_tokens: 3, output_tokens: 5 }, raw }, costNanos: 3_000_000_000_000, attempts: [{ provider: 'openai', status: 200, failedOver: false, ms: 4 }] as never }))
      log.record(record('b', { stream: false, status: 429, error: 'rate_limited' }))
      log.record(record('a', { status: 500 }))
      await log.flush()
      expect(writer.failures).toBe(0)
      const rows = await database.db.select().from(requestLog).orderBy(asc(requestLog.id))
      expect(rows.map((r) => [r.id, r.user, r.stream, r.status, r.durationMs, r.costNanos])).toEqual([
        ['a', 'alice', true, 200, 12, 3_000_000_000_000],
        ['b', 'alice', false, 429, 12, null],
      ])
      expect(rows[0]!.usage).toEqual(raw)
      expect(rows[0]!.attempts).toEqual([{ provider: 'openai', status: 200, failedOver: false, ms: 4 }])
      const text = await database.client.execute({ sql: 'SELECT usage FROM request_log WHERE id = ?', args: ['a'] })
      expect(text.rows[0]!.usage).toBe(JSON.stringify(raw))
    })

    test('spend ledger: the latest state of a row wins, within one flush and across flushes', async () => {
      const ledger = new LedgerWriter(writer, 60_000)
      ledger.put(ledgerRow('r1'))
      ledger.put(ledgerRow('r2'))
      await ledger.flush()
      // Reservation and settlement of r3 queued in the writer before it ships them: one batch, same key twice.
      ledger.put(ledgerRow('r3'))
      const first = ledger.flush()
      ledger.put(ledgerRow('r3', { state: 'settled', costNanos: 2_500_000_000_000, providerCostNanos: 2_000_000_000_000, settledAt: 1_700_000_000_500 }))
      ledger.put(ledgerRow('r1', { state: 'released', settledAt: 1_700_000_000_600, note: 'client_disconnected', managed: false }))
      ledger.credit({ project: 'p', ts: 1_700_000_000_500, kind: 'usage', amountNanos: -2_500_000_000_000, ledgerId: 'r3' })
      await Promise.all([first, ledger.flush()])
      expect(writer.failures).toBe(0)
      const rows = await database.db.select().from(spendLedger).orderBy(asc(spendLedger.id))
      expect(rows.map((r) => [r.id, r.state, r.costNanos, r.managed, r.settledAt, r.note])).toEqual([
        ['r1', 'released', 0, false, 1_700_000_000_600, 'client_disconnected'],
        ['r2', 'reserved', 0, true, null, null],
        ['r3', 'settled', 2_500_000_000_000, true, 1_700_000_000_500, null],
      ])
      const credits = await database.db.select().from(creditLedger)
      expect(credits).toEqual([{ id: 1, project: 'p', ts: 1_700_000_000_500, kind: 'usage', amountNanos: -2_500_000_000_000, ledgerId: 'r3', note: null }])
    })

    test('thousands of rows in one flush are split into statements and all written', async () => {
      const log = new RequestLogWriter(writer)
      for (let i = 0; i < 3000; i++) log.record(record(`bulk-${i}`, { ts: i }))
      await log.flush()
      expect(writer.failures).toBe(0)
      const n = await database.client.execute("SELECT count(*) AS n FROM request_log WHERE id LIKE 'bulk-%'")
      expect(Number(n.rows[0]!.n)).toBe(3000)
    })
  })
}
