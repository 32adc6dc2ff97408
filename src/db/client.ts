/**
 * Opens the database `database.url` names and migrates it:
 * - libSQL (the default): `file:` (embedded), `libsql://`, `http(s)://`, `ws(s)://`;
 * - PostgreSQL: `postgres://` or `postgresql://` (src/db/pg/).
 *
 * Why every caller keeps using the libSQL table objects (src/db/schema*.ts) on both engines:
 * drizzle's query builders render tables and columns generically (quoted names, bound
 * parameters), so `select/insert/update/delete`, `returning`, `onConflictDoNothing/DoUpdate`,
 * `sql` fragments, `count/max` and joins built from libSQL tables run unchanged on a drizzle
 * pg database (test/pg/engine.test.ts proves each on both engines). What differs is
 * made equal underneath, not in the callers:
 * - values: the libSQL column codecs do JSON and 1/0 booleans themselves; the pg client
 *   (src/db/pg/connect.ts) returns int8/numeric as numbers, json as text, and accepts 1/0
 *   booleans, so money (bigint there, mode number) and flags round-trip identically;
 * - `db.batch([...])`, which pg lacks, runs the same builders in one transaction; `run`,
 *   `all`, `get`, `values` take raw SQL as on libSQL (src/db/pg/database.ts);
 * - schema: src/db/pg/ mirrors every table with native types, generating drizzle-pg/
 *   (test/pg/schema-parity.test.ts fails when a column exists on one side only).
 * The alternative, a table accessor chosen per engine (`tables(db).apiKeys`), would have
 * changed every query in src/auth, src/spend, src/cli and src/admin, and lost the types.
 * Limits of this choice: SQL inside `sql` fragments must be valid on both (e.g. `false`,
 * not `0`, as a condition); drizzle's relational `db.query` API is not wired for pg.
 */
import { chmod, mkdir, open } from 'node:fs/promises'
import { dirname } from 'node:path'
import { createClient, type Client } from '@libsql/client'
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql'
import * as schema from './schema'
import { localFilePath } from './libsql-file-sink'
import { applyMigrations, schemaState } from './migrations'
import { backupBeforeMigrate, type BackupPolicy } from './pre-migrate-backup'
import { offThreadDb } from './off-thread'
import { isPostgresUrl } from './pg/url'
import type { Db } from './types'

/** The drizzle handle (defined in db/types.ts, which the worker threads' modules import without this one). */
export type { Db }

export type Engine = 'libsql' | 'postgres'

export interface Database {
  engine: Engine
  db: Db
  /**
   * libSQL's client. On PostgreSQL, an adapter with only `execute()` (libSQL's `?`
   * placeholders, `{ rows }` back) and `close()`, for raw SQL in tests and tools.
   */
  client: Client
  url: string
  /** One round trip (`/ready`). */
  ping(): Promise<void>
  close(): Promise<void>
}

export function engineOf(url: string): Engine {
  return isPostgresUrl(url) ? 'postgres' : 'libsql'
}

export interface OpenOptions {
  /** The copy before migrating an existing local file (`[database]`); without it, none is taken. */
  backup?: BackupPolicy
  /** Where migration and backup notes go (default: stderr, so a command's stdout stays its own). */
  log?: (line: string) => void
}

/** `[database]`'s backup settings as a BackupPolicy. */
export function backupPolicy(c: { backup_before_migrate: boolean; backup_dir?: string; backups_kept: number }): BackupPolicy {
  return { enabled: c.backup_before_migrate, dir: c.backup_dir, keep: c.backups_kept }
}

export async function openDatabase(url: string, authToken?: string, opts: OpenOptions = {}): Promise<Database> {
  const log = opts.log ?? ((line: string) => console.error(line))
  if (engineOf(url) === 'postgres') {
    // Imported on use: pg/database.ts imports this module in turn.
    const { openPostgres } = await import('./pg/database')
    return openPostgres(url, log)
  }
  return openLibsql(url, authToken, opts.backup, log)
}

async function openLibsql(url: string, authToken: string | undefined, backup: BackupPolicy | undefined, log: (line: string) => void): Promise<Database> {
  const path = localFilePath(url)
  if (url.startsWith('file:')) {
    const file = url.slice(5).split('?')[0]!
    if (file && file !== ':memory:') await createPrivately(file)
  }
  // The busy timeout must reach every pooled connection, not only the one a PRAGMA runs on.
  const client = createClient({ url, authToken, timeout: 5000 })
  // A local file's queries run on a thread of their own: the binding runs them synchronously,
  // and a long one (an admin aggregate over the request log, a key refresh over many keys)
  // would stall every proxied request on the event loop. The client stays for raw SQL.
  // Started first, so the thread boots while this one migrates.
  const off = path ? offThreadDb(path) : undefined
  try {
    if (url.startsWith('file:')) {
      // WAL lets readers (CLI, /ready) run beside the batched writer; it persists in the file.
      await client.execute('PRAGMA journal_mode=WAL')
      await client.execute('PRAGMA busy_timeout=5000')
    }
    const migrating = drizzle(client, { schema }) as unknown as LibSQLDatabase<Record<string, unknown>>
    // One query when the schema is current (every start but the first of a new version).
    const state = await schemaState(migrating)
    if (state.pending.length) {
      const step = `schema v${state.from} to v${state.to}`
      // A new database (from -1) holds nothing to lose; without [database]'s settings (tests, tools) none is taken.
      if (state.from >= 0 && backup) {
        if (!path) log(`database ${describeDatabaseUrl(url)}: migrating ${step} with no backup taken by the gateway (a libSQL server: back it up with its own tools before upgrading)`)
        else if (!backup.enabled) log(`database ${path}: migrating ${step} without a backup ([database] backup_before_migrate = false)`)
        else log(`database ${path}: backup before migrating ${step} written to ${await backupBeforeMigrate(client, path, state.from, state.to, backup, log)}`)
      }
      await applyMigrations(migrating, state.pending)
      if (state.from >= 0) log(`database ${describeDatabaseUrl(url)}: migrated ${step} (${state.pending.length} migration(s))`)
    }
  } catch (e) {
    await off?.close()
    client.close()
    throw e
  }
  return {
    engine: 'libsql',
    db: off?.db ?? (drizzle(client, { schema }) as Db),
    client,
    url,
    async ping() {
      // On the main connection: instant, and never queued behind a long query on the query thread.
      await client.execute('SELECT 1')
    },
    async close() {
      await off?.close()
      client.close()
    },
  }
}

/**
 * The file holds the request log, sealed credentials and key hashes: a new database and a folder
 * made for it are the owner's only (0600 / 0700), whatever the umask. SQLite creates the -wal and
 * -shm files with the database file's mode. Existing files and folders are left as they are.
 */
async function createPrivately(path: string): Promise<void> {
  const made = await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  if (made) await chmod(made, 0o700)
  if (made && made !== dirname(path)) await chmod(dirname(path), 0o700)
  try {
    // An empty file is a valid new database for SQLite.
    const f = await open(path, 'wx', 0o600)
    await f.close()
    await chmod(path, 0o600)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
  }
}

/** A URL safe to print: no credentials or tokens. */
export function describeDatabaseUrl(url: string): string {
  try {
    if (url.startsWith('file:')) return url
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname}`
  } catch {
    // Unparsable: drop the query and anything up to the last `@` (user and password).
    return url.split('?')[0]!.replace(/^([a-z][a-z0-9+.-]*:\/\/).*@/i, '$1')
  }
}
