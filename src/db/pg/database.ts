/**
 * Opens PostgreSQL for `database.url = "postgres://…"`: a drizzle pg database that callers
 * use with the libSQL table objects (why: src/db/client.ts), plus the few libSQL-only
 * methods they rely on, mapped: `batch` runs its statements in one transaction.
 */
import type { Client } from '@libsql/client'
import { type SQLWrapper, sql as rawSql } from 'drizzle-orm'
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import type { Sql } from 'postgres'
import { describeDatabaseUrl, type Database, type Db } from '../client'
import { pgClient } from './connect'
import { embeddedPgMigrations, migratePostgres } from './migrations'

type PgDb = PostgresJsDatabase<Record<string, never>>

/** `log` hears of a migration of an existing schema, which the gateway does not back up (pg_dump is the operator's). */
export async function openPostgres(url: string, log?: (line: string) => void): Promise<Database> {
  const client = pgClient(url)
  try {
    const ran = await migratePostgres(client)
    // All of them ran: the database was new, with nothing to back up.
    if (ran && ran < embeddedPgMigrations().length) log?.(`database ${describeDatabaseUrl(url)}: applied ${ran} migration(s); the gateway takes no backup of PostgreSQL (run pg_dump before upgrading: README, Upgrading)`)
  } catch (e) {
    await client.end({ timeout: 1 })
    throw new Error(`database ${describeDatabaseUrl(url)}: ${(e as Error).message}`, { cause: e })
  }
  const db = withLibsqlMethods(drizzle(client))
  return {
    engine: 'postgres',
    db: db as unknown as Db,
    client: rawClient(client),
    url,
    async ping() {
      await client`SELECT 1`
    },
    async close() {
      await client.end({ timeout: 5 })
    },
  }
}

/**
 * A query builder made by `db.select()/insert()/update()/delete()` runs on the session it
 * was made with; pointing it at the transaction's session runs it inside the transaction
 * with its result mapping intact (what libSQL's `batch` returns).
 */
interface Rebindable extends PromiseLike<unknown> {
  session: unknown
}

function withLibsqlMethods(db: PgDb) {
  const text = (q: SQLWrapper | string) => (typeof q === 'string' ? rawSql.raw(q) : q)
  return Object.assign(db, {
    async batch(queries: readonly unknown[]): Promise<unknown[]> {
      return db.transaction(async (tx) => {
        const out: unknown[] = []
        for (const q of queries) {
          if (!q || typeof q !== 'object' || !('session' in q)) throw new TypeError('on PostgreSQL, db.batch() takes query builders (select, insert, update, delete)')
          ;(q as Rebindable).session = (tx as unknown as Rebindable).session
          out.push(await (q as Rebindable))
        }
        return out
      })
    },
    async run(q: SQLWrapper | string) {
      return db.execute(text(q))
    },
    async all(q: SQLWrapper | string) {
      return [...(await db.execute(text(q)))]
    },
    async get(q: SQLWrapper | string) {
      return (await db.execute(text(q)))[0]
    },
    async values(q: SQLWrapper | string) {
      return [...(await db.execute(text(q)))].map((r) => Object.values(r))
    },
  })
}

/**
 * `Database.client` on PostgreSQL: raw SQL with libSQL's `?` placeholders, answered as
 * `{ rows }` like libSQL's execute(). Only execute() and close() exist.
 */
function rawClient(sql: Sql): Client {
  const adapter = {
    async execute(stmt: string | { sql: string; args?: unknown[] }) {
      const text = typeof stmt === 'string' ? stmt : stmt.sql
      const args = typeof stmt === 'string' ? [] : (stmt.args ?? [])
      const rows = await sql.unsafe(dollarParams(text), args as never[])
      return { rows: [...rows], columns: rows.columns?.map((c) => c.name) ?? [], rowsAffected: rows.count }
    },
    close() {
      void sql.end({ timeout: 5 })
    },
  }
  return adapter as unknown as Client
}

/** `?` placeholders → `$1, $2, …`, leaving quoted strings and identifiers alone. */
export function dollarParams(text: string): string {
  let out = ''
  let n = 0
  let quote: string | undefined
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined
    } else if (ch === "'" || ch === '"') quote = ch
    else if (ch === '?') {
      out += `$${++n}`
      continue
    }
    out += ch
  }
  return out
}
