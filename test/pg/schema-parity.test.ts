/**
 * src/db/pg/ mirrors src/db/schema*.ts table for table: the code above the database uses
 * the libSQL tables on both engines (src/db/client.ts), so a column added on one side
 * only would break PostgreSQL at run time. This fails first, naming the difference.
 */
import { describe, expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { getTableConfig as pgConfig, PgTable } from 'drizzle-orm/pg-core'
import { getTableConfig as sqliteConfig, SQLiteTable } from 'drizzle-orm/sqlite-core'
import { getTableColumns, is } from 'drizzle-orm'

const DB = join(import.meta.dir, '../../src/db')
const files = readdirSync(DB).filter((f) => /^schema(-[a-z0-9-]+)?\.ts$/.test(f))

/** How each libSQL column kind is stored on PostgreSQL. */
const TYPES: Record<string, string[]> = {
  SQLiteText: ['PgText'],
  SQLiteTextJson: ['PgJson', 'PgJsonb'],
  SQLiteInteger: ['PgInteger', 'PgBigInt53'],
  SQLiteBoolean: ['PgBoolean'],
}

function describeColumn(c: { name: string; notNull: boolean; primary: boolean; hasDefault: boolean; isUnique: boolean; default?: unknown }) {
  return { name: c.name, notNull: c.notNull, primary: c.primary, hasDefault: c.hasDefault, unique: c.isUnique, default: c.default === undefined ? undefined : String(c.default) }
}

test('every schema file has a PostgreSQL mirror', () => {
  expect(files.length).toBeGreaterThan(0)
  for (const f of files) expect(readdirSync(join(DB, 'pg'))).toContain(f)
})

for (const file of files) {
  describe(`src/db/${file} ↔ src/db/pg/${file}`, async () => {
    const lite = await import(join(DB, file))
    const pg = await import(join(DB, 'pg', file))
    const liteTables = Object.entries(lite).filter(([, t]) => is(t, SQLiteTable)) as [string, SQLiteTable][]
    const pgTables = Object.entries(pg).filter(([, t]) => is(t, PgTable)) as [string, PgTable][]

    test('the same tables under the same export names', () => {
      expect(pgTables.map(([n, t]) => [n, pgConfig(t).name]).sort()).toEqual(liteTables.map(([n, t]) => [n, sqliteConfig(t).name]).sort())
    })

    for (const [name, table] of liteTables) {
      test(`${name}: columns, keys, defaults, indexes and types match`, () => {
        const mirror = pg[name] as PgTable | undefined
        expect(mirror).toBeDefined()
        const a = sqliteConfig(table)
        const b = pgConfig(mirror!)
        expect(Object.keys(getTableColumns(mirror!))).toEqual(Object.keys(getTableColumns(table)))
        expect(b.columns.map(describeColumn)).toEqual(a.columns.map(describeColumn))
        expect(b.primaryKeys.map((k) => k.columns.map((c) => c.name))).toEqual(a.primaryKeys.map((k) => k.columns.map((c) => c.name)))
        const idx = (i: { config: { name?: string; unique: boolean; columns: unknown[] } }) => ({ name: i.config.name, unique: i.config.unique, columns: i.config.columns.map((c) => (c as { name: string }).name) })
        expect(b.indexes.map(idx)).toEqual(a.indexes.map(idx))
        for (const [i, col] of a.columns.entries()) {
          const other = b.columns[i]!
          expect(`${col.name}: ${TYPES[col.columnType]?.includes(other.columnType) ? 'ok' : `${col.columnType} stored as ${other.columnType}`}`).toBe(`${col.name}: ok`)
          // Money and instants outgrow 32 bits (epoch ms already does).
          if (/(_nanos|_at|^ts)$/.test(col.name)) expect(`${col.name}: ${other.getSQLType()}`).toBe(`${col.name}: bigint`)
        }
      })
    }
  })
}
