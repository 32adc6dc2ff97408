/**
 * A new version finds an existing file at an older schema: it writes a consistent copy (0600,
 * at the old version, the same rows) and only then migrates; a copy it cannot write stops the
 * migration; a new database, a current one and a second start take none; the last N are kept.
 */
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'libsql'
import { openDatabase } from '../../src/db/client'
import { embeddedMigrations } from '../../src/db/migrations'
import { backupsOf, MigrationBackupError, type BackupPolicy } from '../../src/db/pre-migrate-backup'

const ALL = embeddedMigrations()
const LATEST = Number.parseInt(ALL[ALL.length - 1]!.tag, 10)
/** The database an older release left: only its first `n` migrations, and some rows. */
const N = 7
const ROWS = 25

let root: string
let file: string
let lines: string[]
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tollgate-premigrate-'))
  file = join(root, 'tollgate.db')
  lines = []
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

function olderDatabase(path: string, n = N): void {
  const db = new Database(path)
  db.exec('CREATE TABLE __drizzle_migrations (id INTEGER PRIMARY KEY, hash text NOT NULL, created_at numeric)')
  for (const m of ALL.slice(0, n)) {
    for (const s of m.statements) db.exec(s)
    db.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run(m.hash, m.createdAt)
  }
  const insert = db.prepare("INSERT INTO request_log (id, ts, method, path, status, duration_ms) VALUES (?, ?, 'POST', '/openai/chat/completions', 200, 1)")
  for (let i = 0; i < ROWS; i++) insert.run(`r${i}`, i)
  db.close()
}

function inspect(path: string): { migrations: number; rows: number; tables: string[]; integrity: string } {
  const db = new Database(path, { readonly: true })
  try {
    return {
      migrations: (db.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number }).n,
      rows: (db.prepare('SELECT count(*) AS n FROM request_log').get() as { n: number }).n,
      tables: (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name),
      integrity: (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check,
    }
  } finally {
    db.close()
  }
}

async function start(backup: BackupPolicy = { enabled: true, keep: 3 }): Promise<void> {
  const db = await openDatabase(`file:${file}`, undefined, { backup, log: (l) => lines.push(l) })
  await db.close()
}

test('an older database is copied at its own version, with its rows and mode 0600, then migrated', async () => {
  olderDatabase(file)
  const old = process.umask(0o022)
  try {
    await start()
  } finally {
    process.umask(old)
  }
  const backups = await backupsOf(file, root)
  expect(backups).toHaveLength(1)
  const copy = backups[0]!
  expect(copy).toMatch(new RegExp(`/tollgate\\.backup-v${N - 1}-to-v${LATEST}-\\d{8}T\\d{9}Z\\.db$`))
  expect(statSync(copy).mode & 0o777).toBe(0o600)
  const before = inspect(copy)
  expect(before).toMatchObject({ migrations: N, rows: ROWS, integrity: 'ok' })
  // The later migrations' tables are not in the copy, and are in the database.
  expect(before.tables).not.toContain('provider_objects')
  const after = inspect(file)
  expect(after).toMatchObject({ migrations: ALL.length, rows: ROWS })
  expect(after.tables).toContain('provider_objects')
  // The log names the copy before it says the schema moved.
  const at = lines.findIndex((l) => l.includes(copy))
  expect(at).toBeGreaterThanOrEqual(0)
  expect(lines.findIndex((l) => l.includes(`migrated schema v${N - 1} to v${LATEST}`))).toBeGreaterThan(at)
})

test('migrations run once: a second start takes no backup and logs nothing', async () => {
  olderDatabase(file)
  await start()
  lines = []
  await start()
  expect(await backupsOf(file, root)).toHaveLength(1)
  expect(lines).toEqual([])
  expect(inspect(file).migrations).toBe(ALL.length)
})

test('a new, empty database is migrated with no backup', async () => {
  await start()
  expect(readdirSync(root).filter((n) => n.includes('backup'))).toEqual([])
  expect(inspect(file).migrations).toBe(ALL.length)
  expect(lines).toEqual([])
})

test('a copy that cannot be written stops the migration, and the database stays as it was', async () => {
  olderDatabase(file)
  // A file where the folder should be: the copy cannot be made there (root ignores permission bits).
  writeFileSync(join(root, 'not-a-folder'), '')
  const dir = join(root, 'not-a-folder', 'backups')
  const refused = await start({ enabled: true, keep: 3, dir }).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(refused).toBeInstanceOf(MigrationBackupError)
  expect((refused as Error).message).toContain('was not migrated')
  expect((refused as Error).message).toContain('backup_dir')
  expect(inspect(file)).toMatchObject({ migrations: N, rows: ROWS })
  expect(inspect(file).tables).not.toContain('provider_objects')
})

test('backup_dir takes the copy (a new folder there is 0700); backup_before_migrate = false takes none', async () => {
  olderDatabase(file)
  const dir = join(root, 'copies', 'tollgate')
  await start({ enabled: true, keep: 3, dir })
  expect(await backupsOf(file, dir)).toHaveLength(1)
  expect(statSync(dir).mode & 0o777).toBe(0o700)
  expect(await backupsOf(file, root)).toHaveLength(0)

  const other = join(root, 'other.db')
  olderDatabase(other)
  const db = await openDatabase(`file:${other}`, undefined, { backup: { enabled: false, keep: 3 }, log: (l) => lines.push(l) })
  await db.close()
  expect(await backupsOf(other, root)).toHaveLength(0)
  expect(lines.some((l) => l.includes('without a backup') && l.includes('backup_before_migrate = false'))).toBe(true)
  expect(inspect(other).migrations).toBe(ALL.length)
})

test('only the last backups_kept copies of this database stay; other files are left alone', async () => {
  olderDatabase(file)
  const earlier = ['20240101T000000000Z', '20250101T000000000Z', '20260101T000000000Z', '20260601T000000000Z'].map((s) => join(root, `tollgate.backup-v3-to-v5-${s}.db`))
  const strangers = [join(root, 'other.backup-v3-to-v5-20200101T000000000Z.db'), join(root, 'tollgate.backup-notes.db')]
  for (const f of [...earlier, ...strangers]) writeFileSync(f, '')
  await start({ enabled: true, keep: 3 })
  const kept = await backupsOf(file, root)
  expect(kept).toHaveLength(3)
  expect(kept.slice(0, 2)).toEqual(earlier.slice(2))
  expect(kept[2]).toContain(`backup-v${N - 1}-to-v${LATEST}-`)
  for (const f of [...strangers, file]) expect(existsSync(f)).toBe(true)
})
