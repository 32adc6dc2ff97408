/**
 * A usage row of the credit ledger is written once per spend_ledger row, on both engines. The
 * batch writer re-sends a batch whose COMMIT it did not hear back (src/db/writer-worker.ts); the
 * copy reached the database as a second, identical usage row and charged the project twice.
 * Migration 0010 (libSQL) / 0006 (PostgreSQL) removes such duplicates (the lowest id stays) and
 * adds the partial unique index; top-ups, which carry no ledger_id, are never deduplicated.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from '@libsql/client'
import { asc, eq } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/libsql'
import postgres from 'postgres'
import { BatchWriter } from '../../src/db/batch-writer'
import { openDatabase, type Database } from '../../src/db/client'
import { applyMigrations, embeddedMigrations } from '../../src/db/migrations'
import { embeddedPgMigrations, migratePostgres } from '../../src/db/pg/migrations'
import { creditLedger, spendLedger } from '../../src/db/schema-spend'
import { loadCredits } from '../../src/spend/counters'
import { LedgerWriter, type CreditRow } from '../../src/spend/ledger'
import { sweepOpenReservations } from '../../src/spend/recovery'
import { createTestDatabase, dropTestDatabase, skipWithoutPostgres } from '../support/postgres'

const noPg = skipWithoutPostgres('PostgreSQL credit ledger tests')

const usage = (ledgerId: string, amountNanos: number): CreditRow => ({ project: 'p', ts: 1_700_000_000_000, kind: 'usage', amountNanos, ledgerId })
const topup = (amountNanos: number): CreditRow => ({ project: 'p', ts: 1_700_000_000_000, kind: 'topup', amountNanos, note: 'same note' })

/** The duplicates the old writer could leave: r1 three times, r2 twice, r3 once; two equal top-ups. */
const LEGACY = [usage('r1', -5), topup(100), usage('r1', -5), usage('r2', -7), usage('r1', -5), topup(100), usage('r2', -7), usage('r3', -1)]
const legacyValues = LEGACY.map((c, i) => [i + 1, c.project, c.ts, c.kind, c.amountNanos, c.ledgerId ?? null, c.note ?? null])
const INSERT = 'INSERT INTO credit_ledger (id, project, ts, kind, amount_nanos, ledger_id, note) VALUES '

const engines = [
  { name: 'libsql', skip: false },
  { name: 'postgres', skip: !!noPg },
]

for (const engine of engines) {
  describe.skipIf(engine.skip)(`credit ledger usage once per ledger row on ${engine.name}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-credits-'))
    const urls: string[] = []
    const newUrl = async (name: string) => {
      const url = engine.name === 'postgres' ? await createTestDatabase(name) : `file:${join(dir, `${name}.db`)}`
      urls.push(url)
      return url
    }
    let database: Database | undefined
    let writer: BatchWriter | undefined
    afterAll(async () => {
      await writer?.close()
      await database?.close()
      if (engine.name === 'postgres') for (const u of urls) await dropTestDatabase(u)
      rmSync(dir, { recursive: true, force: true })
    })

    test('a re-sent batch (the same usage row written again, and twice in one batch) charges once; equal top-ups both count', async () => {
      const url = await newUrl('resend')
      database = await openDatabase(url)
      writer = new BatchWriter(url, undefined, 60_000)
      const ledger = new LedgerWriter(writer, 60_000)
      ledger.credit(topup(1_000_000))
      ledger.credit(usage('r1', -400_000))
      ledger.credit(usage('r2', -100_000))
      await ledger.flush()
      // The batch again, as the worker re-sends it after a lost COMMIT; r2 queued twice in one batch as well.
      ledger.credit(topup(1_000_000))
      ledger.credit(usage('r1', -400_000))
      ledger.credit(usage('r2', -100_000))
      ledger.credit(usage('r2', -100_000))
      await ledger.flush()
      expect(writer.failures).toBe(0)
      expect(writer.dropped).toBe(0)
      const rows = await database.db.select().from(creditLedger).orderBy(asc(creditLedger.id))
      expect(rows.map((r) => [r.kind, r.ledgerId, r.amountNanos])).toEqual([
        ['topup', null, 1_000_000],
        ['usage', 'r1', -400_000],
        ['usage', 'r2', -100_000],
        ['topup', null, 1_000_000],
      ])
      expect(await loadCredits(database.db)).toEqual(new Map([['p', { topups: 2_000_000, used: 500_000 }]]))
    })

    test('a crash sweep racing a settlement that already drew the credits does not draw them again', async () => {
      const url = await newUrl('sweep')
      const db = await openDatabase(url)
      try {
        await db.db.insert(creditLedger).values(topup(1_000))
        await db.db.insert(spendLedger).values({ id: 'r9', requestId: 'r9', ts: 1_700_000_000_000, keyId: 'k', project: 'p', state: 'reserved', reservedNanos: 300, managed: true })
        // Between the sweep's read and its write, the row's own instance settles it and writes its usage row.
        await sweepOpenReservations(db.db, 'charge', 1_700_000_001_000, () => {}, async () => {
          await db.db.update(spendLedger).set({ state: 'settled', costNanos: 120, settledAt: 1_700_000_000_500 }).where(eq(spendLedger.id, 'r9'))
          await db.db.insert(creditLedger).values(usage('r9', -120))
          return new Set()
        })
        expect((await db.db.select().from(creditLedger).where(eq(creditLedger.kind, 'usage'))).map((r) => [r.ledgerId, r.amountNanos])).toEqual([['r9', -120]])
        expect(await loadCredits(db.db)).toEqual(new Map([['p', { topups: 1_000, used: 120 }]]))
      } finally {
        await db.close()
      }
    })

    test('the migration at start removes duplicate usage rows (the lowest id stays), says how many, and leaves top-ups alone', async () => {
      const url = await newUrl('dedup')
      // An existing database one migration behind, holding what the old writer could leave.
      if (engine.name === 'postgres') {
        const sql = postgres(url, { max: 1, onnotice: () => {} })
        try {
          const all = embeddedPgMigrations()
          await migratePostgres(sql, all.slice(0, all.findIndex((m) => m.tag === '0006_credit_usage_once')))
          await sql.unsafe(INSERT + legacyValues.map((_, i) => `(${Array.from({ length: 7 }, (_, j) => `$${i * 7 + j + 1}`).join(',')})`).join(','), legacyValues.flat() as never[])
          // Explicit ids leave the identity behind: the later inserts below need it past them.
          await sql`SELECT setval(pg_get_serial_sequence('credit_ledger', 'id'), 8)`
        } finally {
          await sql.end()
        }
      } else {
        const client = createClient({ url })
        try {
          const all = embeddedMigrations()
          await applyMigrations(drizzle(client), all.slice(0, all.findIndex((m) => m.tag === '0010_credit_usage_once')))
          await client.execute({ sql: INSERT + legacyValues.map(() => '(?,?,?,?,?,?,?)').join(','), args: legacyValues.flat() as never[] })
        } finally {
          client.close()
        }
      }
      const notes: string[] = []
      const db = await openDatabase(url, undefined, { log: (l) => void notes.push(l) })
      try {
        const rows = (await db.client.execute('SELECT id, kind, ledger_id, amount_nanos FROM credit_ledger ORDER BY id')).rows
        expect(rows.map((r) => [Number(r.id), r.kind, r.ledger_id, Number(r.amount_nanos)])).toEqual([
          [1, 'usage', 'r1', -5],
          [2, 'topup', null, 100],
          [4, 'usage', 'r2', -7],
          [6, 'topup', null, 100],
          [8, 'usage', 'r3', -1],
        ])
        expect(notes.filter((l) => l.includes('duplicate'))).toEqual([expect.stringContaining('removed 3 duplicate credit usage row(s) (requests charged twice, $0.000000017 in all')])
        // The migrated database takes a top-up and a new usage row, but no second usage row for r1.
        await db.db.insert(creditLedger).values([topup(100), usage('r4', -2)])
        await db.db.insert(creditLedger).values(usage('r1', -5)).onConflictDoNothing()
        expect(await loadCredits(db.db)).toEqual(new Map([['p', { topups: 300, used: 15 }]]))
      } finally {
        await db.close()
      }
    })
  })
}
