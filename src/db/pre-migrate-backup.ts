/**
 * The copy taken before a new version migrates an existing local libSQL file: written next to
 * the database (or in `[database] backup_dir`), named for the schema versions and the time
 * (`tollgate.backup-v7-to-v9-20261207T101530123Z.db`), the last `backups_kept` kept. A new,
 * empty database needs none; a libSQL server or PostgreSQL gets none (their operator backs
 * them up: the log and the README say so). If the copy cannot be written, nothing is migrated.
 */
import { chmod, mkdir, readdir, rm } from 'node:fs/promises'
import { basename, dirname, extname, join, resolve } from 'node:path'
import type { Client } from '@libsql/client'
import { writeBackup } from './backup'

export interface BackupPolicy {
  /** `[database] backup_before_migrate`. */
  enabled: boolean
  /** `[database] backup_dir`; default: the database file's folder. */
  dir?: string
  /** `[database] backups_kept`. */
  keep: number
}

/** Migrating was refused because the copy before it could not be written. */
export class MigrationBackupError extends Error {
  readonly code = 'migration_backup_failed'
}

export function backupName(dbPath: string, from: number, to: number, at: Date): string {
  const stem = basename(dbPath, extname(dbPath))
  const stamp = at.toISOString().replace(/[-:.]/g, '')
  return `${stem}.backup-v${from}-to-v${to}-${stamp}.db`
}

/** The pre-migration copies of `dbPath` in `dir`, oldest first (their names sort by time). */
export async function backupsOf(dbPath: string, dir: string): Promise<string[]> {
  const stem = basename(dbPath, extname(dbPath))
  const prefix = `${stem}.backup-v`
  const pattern = /^\d+-to-v\d+-\d{8}T\d{9}Z\.db$/
  const names = await readdir(dir).catch(() => [] as string[])
  const ours = names.filter((n) => n.startsWith(prefix) && pattern.test(n.slice(prefix.length)))
  const stampOf = (n: string) => n.slice(-'20261207T101530123Z.db'.length)
  return ours.sort((a, b) => stampOf(a).localeCompare(stampOf(b)) || a.localeCompare(b)).map((n) => join(dir, n))
}

/**
 * Writes the copy of `dbPath` (open as `client`) and deletes the oldest beyond `keep`. Returns
 * the copy's path; throws MigrationBackupError, with what to do, when it cannot be written.
 */
export async function backupBeforeMigrate(client: Client, dbPath: string, from: number, to: number, policy: BackupPolicy, log: (line: string) => void): Promise<string> {
  const dir = resolve(policy.dir ?? dirname(dbPath))
  const file = join(dir, backupName(dbPath, from, to, new Date()))
  try {
    // A folder made for the copies is the owner's only, like the database's own.
    const made = await mkdir(dir, { recursive: true, mode: 0o700 })
    if (made) await chmod(dir, 0o700)
    await writeBackup(client, file)
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message
    throw new MigrationBackupError(
      `database ${dbPath} was not migrated (schema v${from} to v${to}): the backup before migrating could not be written to ${file} (${why}). ` +
        `Make ${dir} writable (and give it room for a copy of the database), set [database] backup_dir to another folder, ` +
        `or set [database] backup_before_migrate = false to migrate without a backup. The previous version still runs on this database.`,
    )
  }
  const all = await backupsOf(dbPath, dir)
  for (const old of all.slice(0, Math.max(0, all.length - policy.keep))) {
    await rm(old, { force: true }).catch((e) => log(`database: could not delete the old backup ${old} (${(e as Error).message})`))
  }
  return file
}
