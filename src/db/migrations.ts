/**
 * Migrations embedded in the source (and so in the compiled binary), applied with
 * drizzle's own bookkeeping table. drizzle's file-based migrator reads a folder at run
 * time, which a single executable does not have. Add one import per generated file.
 */
import { createHash } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { LibSQLDatabase } from 'drizzle-orm/libsql'
import journal from '../../drizzle/meta/_journal.json'
import m0000 from '../../drizzle/0000_init.sql' with { type: 'text' }
import m0001 from '../../drizzle/0001_admin.sql' with { type: 'text' }
import m0002 from '../../drizzle/0002_request_attempts.sql' with { type: 'text' }
import m0003 from '../../drizzle/0003_spend.sql' with { type: 'text' }
import m0004 from '../../drizzle/0004_key_rate_limits.sql' with { type: 'text' }
import m0005 from '../../drizzle/0005_ledger_instance.sql' with { type: 'text' }
import m0006 from '../../drizzle/0006_credit_topups.sql' with { type: 'text' }
import m0007 from '../../drizzle/0007_key_changes.sql' with { type: 'text' }
import m0008 from '../../drizzle/0008_spend_totals.sql' with { type: 'text' }
import m0009 from '../../drizzle/0009_objects.sql' with { type: 'text' }

export const EMBEDDED_SQL: Record<string, string> = {
  '0000_init': m0000,
  '0001_admin': m0001,
  '0002_request_attempts': m0002,
  '0003_spend': m0003,
  '0004_key_rate_limits': m0004,
  '0005_ledger_instance': m0005,
  '0006_credit_topups': m0006,
  '0007_key_changes': m0007,
  '0008_spend_totals': m0008,
  '0009_objects': m0009,
}

export interface Migration {
  tag: string
  statements: string[]
  createdAt: number
  hash: string
}

export function embeddedMigrations(): Migration[] {
  return migrationsFrom(journal.entries, EMBEDDED_SQL, 'src/db/migrations.ts')
}

/** A drizzle-kit journal's entries with their embedded SQL (also PostgreSQL's, src/db/pg/migrations.ts). */
export function migrationsFrom(entries: readonly { tag: string; when: number }[], texts: Record<string, string>, embeddedIn: string): Migration[] {
  return entries.map((e) => {
    const text = texts[e.tag]
    if (text === undefined) throw new Error(`migration ${e.tag} is in the journal but not embedded in ${embeddedIn}`)
    return {
      tag: e.tag,
      statements: text.split('--> statement-breakpoint').filter((s) => s.trim()),
      createdAt: e.when,
      hash: createHash('sha256').update(text).digest('hex'),
    }
  })
}

/**
 * Where a database's schema stands. A version is the number of a migration's tag (`0009_objects`
 * is 9), -1 for a database no migration has touched (a new, empty file).
 */
export interface SchemaState {
  from: number
  /** The latest embedded migration's version. */
  to: number
  pending: Migration[]
}

/** The embedded migrations the database has not applied yet: one query on the bookkeeping table. */
export async function schemaState(db: LibSQLDatabase<Record<string, unknown>>, migrations = embeddedMigrations()): Promise<SchemaState> {
  let lastAt = -1
  try {
    const last = await db.values<[number]>(sql`SELECT created_at FROM __drizzle_migrations ORDER BY created_at DESC LIMIT 1`)
    if (last[0]) lastAt = Number(last[0][0])
  } catch (e) {
    // A new database has no bookkeeping table yet; anything else is a real problem.
    if (!/no such table/i.test(String((e as Error).message) + String((e as { cause?: Error }).cause?.message))) throw e
  }
  const applied = migrations.filter((m) => m.createdAt <= lastAt)
  return {
    from: applied.length ? versionOf(applied[applied.length - 1]!) : -1,
    to: migrations.length ? versionOf(migrations[migrations.length - 1]!) : -1,
    pending: migrations.filter((m) => m.createdAt > lastAt),
  }
}

/** `0009_objects` → 9. */
export function versionOf(m: Migration): number {
  return Number.parseInt(m.tag, 10)
}

/** Applies `pending` (from schemaState) in one batch: all of them or none. */
export async function applyMigrations(db: LibSQLDatabase<Record<string, unknown>>, pending: Migration[]): Promise<number> {
  if (!pending.length) return 0
  await db.run(sql`CREATE TABLE IF NOT EXISTS __drizzle_migrations (id INTEGER PRIMARY KEY, hash text NOT NULL, created_at numeric)`)
  const stmts = pending.flatMap((m) => [
    ...m.statements.map((s) => db.run(sql.raw(s))),
    db.run(sql`INSERT INTO __drizzle_migrations (hash, created_at) VALUES (${m.hash}, ${m.createdAt})`),
  ])
  await db.batch(stmts as [ (typeof stmts)[number], ...(typeof stmts)[number][] ])
  return pending.length
}

/** Applies every migration newer than the last one recorded, in one batch. Returns how many ran. */
export async function migrate(db: LibSQLDatabase<Record<string, unknown>>): Promise<number> {
  return applyMigrations(db, (await schemaState(db)).pending)
}
