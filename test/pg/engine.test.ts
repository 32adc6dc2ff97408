/**
 * One suite, both engines: every way the code above src/db/ uses the database (libSQL table
 * objects through drizzle's builders, batch, raw SQL) must behave the same on libSQL and on
 * PostgreSQL, values included (json, booleans, money beyond 32 bits, aggregates).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { and, count, desc, eq, inArray, isNull, max, or, sql } from 'drizzle-orm'
import { openDatabase, type Database } from '../../src/db/client'
import { apiKeys, requestLog } from '../../src/db/schema'
import { creditLedger, spendLedger } from '../../src/db/schema-spend'
import { createTestDatabase, dropTestDatabase, skipWithoutPostgres } from '../support/postgres'

const noPg = skipWithoutPostgres('PostgreSQL engine tests')
/** $1,000,000 in nano-dollars: far beyond 32 bits; twice it is still exact in a JS number. */
const BIG = 1_000_000 * 1e9

const engines: { name: string; open: () => Promise<{ url: string; done: () => Promise<void> }>; skip?: boolean }[] = [
  {
    name: 'libsql',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'tollgate-engine-'))
      return { url: `file:${join(dir, 'e.db')}`, done: async () => rmSync(dir, { recursive: true, force: true }) }
    },
  },
  {
    name: 'postgres',
    skip: !!noPg,
    async open() {
      const url = await createTestDatabase('engine')
      return { url, done: () => dropTestDatabase(url) }
    },
  },
]

for (const engine of engines) {
  describe.skipIf(!!engine.skip)(`database engine: ${engine.name}`, () => {
    let database: Database
    let done: () => Promise<void>
    beforeAll(async () => {
      const o = await engine.open()
      done = o.done
      database = await openDatabase(o.url)
    })
    afterAll(async () => {
      await database?.close()
      await done?.()
    })

    const key = (id: string, extra: Partial<typeof apiKeys.$inferInsert> = {}) => ({ id, project: 'p', keySha256: `sha-${id}`, displayPrefix: `tg-${id}`, createdAt: 1_700_000_000_000, ...extra })

    test('engine is named', () => {
      expect(database.engine).toBe(engine.name as Database['engine'])
    })

    test('insert … returning and select round-trip json, null, and money beyond 32 bits', async () => {
      const [row] = await database.db.insert(apiKeys).values(key('a', { providers: ['openai', 'anthropic'], limitTotalNanos: BIG, rateRpm: 60 })).returning()
      expect(row).toMatchObject({ id: 'a', providers: ['openai', 'anthropic'], models: null, limitTotalNanos: BIG, rateRpm: 60, createdAt: 1_700_000_000_000, revokedAt: null })
      const [read] = await database.db.select().from(apiKeys).where(eq(apiKeys.id, 'a')).limit(1)
      expect(read).toEqual(row!)
      expect(typeof read!.limitTotalNanos).toBe('number')
    })

    test('booleans and column defaults', async () => {
      await database.db.insert(spendLedger).values([
        { id: 'r1', requestId: 'r1', ts: 10, keyId: 'a', project: 'p', state: 'reserved', reservedNanos: 7, managed: true },
        { id: 'r2', requestId: 'r2', ts: 20, keyId: 'a', project: 'p', state: 'settled', reservedNanos: 9, costNanos: BIG, estimated: false },
      ])
      const rows = await database.db.select().from(spendLedger).orderBy(spendLedger.id)
      expect(rows.map((r) => [r.id, r.managed, r.estimated, r.unpriced, r.costNanos])).toEqual([
        ['r1', true, false, false, 0],
        ['r2', false, false, false, BIG],
      ])
      const managed = await database.db.select({ id: spendLedger.id }).from(spendLedger).where(eq(spendLedger.managed, true))
      expect(managed).toEqual([{ id: 'r1' }])
    })

    test('update and delete … returning', async () => {
      const upd = await database.db.update(apiKeys).set({ revokedAt: 5 }).where(and(eq(apiKeys.id, 'a'), isNull(apiKeys.revokedAt))).returning({ id: apiKeys.id })
      expect(upd).toEqual([{ id: 'a' }])
      expect(await database.db.update(apiKeys).set({ revokedAt: 6 }).where(and(eq(apiKeys.id, 'a'), isNull(apiKeys.revokedAt))).returning({ id: apiKeys.id })).toEqual([])
      await database.db.insert(apiKeys).values(key('gone'))
      expect(await database.db.delete(apiKeys).where(eq(apiKeys.id, 'gone')).returning({ id: apiKeys.id })).toEqual([{ id: 'gone' }])
    })

    test('onConflictDoNothing and onConflictDoUpdate', async () => {
      expect(await database.db.insert(apiKeys).values(key('a')).onConflictDoNothing().returning()).toEqual([])
      const up = await database.db
        .insert(apiKeys)
        .values(key('a', { name: 'renamed' }))
        .onConflictDoUpdate({ target: apiKeys.id, set: { name: sql`excluded.name` } })
        .returning({ name: apiKeys.name, revokedAt: apiKeys.revokedAt })
      expect(up).toEqual([{ name: 'renamed', revokedAt: 5 }])
    })

    test('batch returns each statement’s mapped result, and is all or nothing', async () => {
      const [ins, sel] = await database.db.batch([
        database.db.insert(apiKeys).values(key('b', { models: ['gpt-*'] })).returning({ id: apiKeys.id, models: apiKeys.models }),
        database.db.select({ n: count() }).from(apiKeys),
      ])
      expect(ins).toEqual([{ id: 'b', models: ['gpt-*'] }])
      expect(sel).toEqual([{ n: 2 }])
      const failing = database.db.batch([
        database.db.insert(apiKeys).values(key('c')),
        // Same primary key as an existing row: the whole batch must roll back.
        database.db.insert(apiKeys).values(key('b', { keySha256: 'other' })),
      ])
      // Not `expect(failing).rejects`: bun:test's resolves/rejects never see a promise that a
      // Worker message settles, and a local file's queries answer from their own thread.
      expect(await failing.then(() => undefined, (e: unknown) => e)).toBeInstanceOf(Error)
      expect(await database.db.select().from(apiKeys).where(eq(apiKeys.id, 'c'))).toEqual([])
    })

    test('aggregates come back as numbers', async () => {
      await database.db.insert(creditLedger).values([
        { project: 'p', ts: 1, kind: 'topup', amountNanos: BIG },
        { project: 'p', ts: 2, kind: 'topup', amountNanos: BIG },
        { project: 'p', ts: 3, kind: 'usage', amountNanos: -3 },
      ])
      const [t] = await database.db
        .select({
          topups: sql<number>`coalesce(sum(case when ${creditLedger.kind} = 'topup' then ${creditLedger.amountNanos} else 0 end), 0)`,
          n: count(),
          last: max(creditLedger.ts),
          avg: sql<number>`avg(${creditLedger.ts})`,
        })
        .from(creditLedger)
      expect(t).toEqual({ topups: 2 * BIG, n: 3, last: 3, avg: 2 })
      // Identity ids count up like SQLite's autoincrement.
      const ids = (await database.db.select({ id: creditLedger.id }).from(creditLedger).orderBy(desc(creditLedger.id))).map((r) => r.id)
      expect(ids).toEqual([3, 2, 1])
    })

    test('sql fragments valid on both: false as a condition, integer division, group by ordinal', async () => {
      // Inlined integers: libSQL binds JS numbers as REAL, so `/` on a bound number would not truncate there.
      await database.db.insert(requestLog).values([
        { id: 'q1', ts: 1000, project: 'p', method: 'POST', path: '/x', status: 200, durationMs: 4, stream: true, usage: { z: 1, a: [2] } },
        { id: 'q2', ts: 1500, project: 'p', method: 'POST', path: '/x', status: 429, durationMs: 8 },
      ])
      expect(await database.db.select({ id: requestLog.id }).from(requestLog).where(sql`false`)).toEqual([])
      expect(await database.db.select({ id: requestLog.id }).from(requestLog).where(or(inArray(requestLog.project, ['nope']), sql`false`))).toEqual([])
      expect(await database.db.select({ id: requestLog.id }).from(requestLog).where(sql`${requestLog.status} / 100 = ${4}`)).toEqual([{ id: 'q2' }])
      const buckets = await database.db
        .select({ b: sql<number>`(${requestLog.ts} - 0) / ${sql.raw('1000')} * 1000`, g: sql<string | null>`null`, n: sql<number>`count(*)` })
        .from(requestLog)
        .groupBy(sql`1`, sql`2`)
        .orderBy(sql`1`)
      expect(buckets).toEqual([{ b: 1000, g: null, n: 2 }])
      const [q1] = await database.db.select({ usage: requestLog.usage, stream: requestLog.stream }).from(requestLog).where(eq(requestLog.id, 'q1'))
      expect(q1).toEqual({ usage: { z: 1, a: [2] }, stream: true })
    })

    test('raw SQL: db.all and client.execute with ? placeholders', async () => {
      const all = (await database.db.all(sql`SELECT id FROM api_keys ORDER BY id`)) as { id: string }[]
      expect(all.map((r) => r.id)).toEqual(['a', 'b'])
      const r = await database.client.execute({ sql: "SELECT id, 'lit?' AS q FROM api_keys WHERE id = ?", args: ['b'] })
      expect(r.rows.map((x) => [x.id, x.q])).toEqual([['b', 'lit?']])
    })

    test('ping', async () => {
      await database.ping()
    })
  })
}
