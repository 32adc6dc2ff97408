/**
 * PostgreSQL migrations: three instances starting together on an empty database migrate
 * it once (advisory lock); the migrated schema is exactly src/db/pg/'s; a second start
 * applies nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { getTableConfig } from 'drizzle-orm/pg-core'
import postgres from 'postgres'
import journal from '../../drizzle-pg/meta/_journal.json'
import { openDatabase } from '../../src/db/client'
import * as core from '../../src/db/pg/schema'
import * as spend from '../../src/db/pg/schema-spend'
import * as admin from '../../src/db/pg/schema-admin'
import * as objects from '../../src/db/pg/schema-objects'
import { createTestDatabase, dropTestDatabase, skipWithoutPostgres } from '../support/postgres'

const noPg = skipWithoutPostgres('PostgreSQL migration tests')

describe.skipIf(!!noPg)('PostgreSQL migrations', () => {
  let url: string
  beforeAll(async () => {
    url = await createTestDatabase('migrate')
  })
  afterAll(async () => {
    if (url) await dropTestDatabase(url)
  })

  test('three processes migrating one empty database at once: one applies everything, the others nothing, no errors', async () => {
    const at = String(Date.now() + 1500)
    const procs = Array.from({ length: 3 }, () =>
      Bun.spawn(['./node_modules/.bin/bun', 'test/pg/fixtures/migrate-once.ts', url, at], { stdout: 'pipe', stderr: 'pipe' }),
    )
    const results = await Promise.all(
      procs.map(async (p) => ({ out: (await new Response(p.stdout).text()).trim(), err: await new Response(p.stderr).text(), code: await p.exited })),
    )
    for (const r of results) expect(r).toMatchObject({ code: 0, err: '' })
    expect(results.map((r) => Number(r.out)).sort()).toEqual([0, 0, journal.entries.length])

    const sql = postgres(url, { max: 1, onnotice: () => {} })
    try {
      const applied = await sql`SELECT hash FROM drizzle.__drizzle_migrations`
      expect(applied.length).toBe(journal.entries.length)
      // Tables, columns, types and nullability are exactly src/db/pg/'s: a schema change without `npm run db:generate:pg` fails here.
      const cols = await sql<{ table_name: string; column_name: string; data_type: string; is_nullable: string }[]>`
        SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public'`
      const want = [...Object.values(core), ...Object.values(spend), ...Object.values(admin), ...Object.values(objects)]
        .flatMap((t) => {
          const c = getTableConfig(t as never)
          return c.columns.map((col) => `${c.name}.${col.name} ${col.getSQLType()} ${col.notNull ? 'NO' : 'YES'}`)
        })
        .sort()
      expect(cols.map((c) => `${c.table_name}.${c.column_name} ${c.data_type} ${c.is_nullable}`).sort()).toEqual(want)
    } finally {
      await sql.end()
    }
  })

  test('a later start on the migrated database applies nothing and works', async () => {
    const database = await openDatabase(url)
    try {
      await database.ping()
      const n = await database.client.execute('SELECT count(*) AS n FROM drizzle.__drizzle_migrations')
      expect(Number(n.rows[0]!.n)).toBe(journal.entries.length)
    } finally {
      await database.close()
    }
  })
})
