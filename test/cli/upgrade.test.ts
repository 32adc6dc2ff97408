/**
 * `tollgate serve` on a database an older release left: it logs the backup it wrote, then
 * serves the migrated database; with a backup folder it cannot write, it exits 1 with the
 * reason and what to do (no stack trace) and leaves the database unmigrated.
 */
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'libsql'
import { embeddedMigrations } from '../../src/db/migrations'
import { cli, serve } from '../support/cli'

const OLD = embeddedMigrations().slice(0, 5)
let root: string
let file: string
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tollgate-upgrade-'))
  file = join(root, 'tollgate.db')
  const db = new Database(file)
  db.exec('CREATE TABLE __drizzle_migrations (id INTEGER PRIMARY KEY, hash text NOT NULL, created_at numeric)')
  for (const m of OLD) {
    for (const s of m.statements) db.exec(s)
    db.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run(m.hash, m.createdAt)
  }
  db.close()
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

function config(extra = ''): string {
  const path = join(root, 'config.toml')
  writeFileSync(path, `[server]\nlisten = "127.0.0.1:0"\n[database]\nurl = "file:${file}"\n${extra}\n[admin]\nenabled = false\n`)
  return path
}

const applied = () => {
  const db = new Database(file, { readonly: true })
  try {
    return (db.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number }).n
  } finally {
    db.close()
  }
}

test('serve backs up, says where, migrates, then listens', async () => {
  const s = await serve(['--config', config()], { cwd: root })
  try {
    expect(applied()).toBe(embeddedMigrations().length)
  } finally {
    s.proc.kill('SIGTERM')
    await s.proc.exited
  }
  const stderr = await new Response(s.proc.stderr).text()
  expect(stderr).toMatch(new RegExp(`backup before migrating schema v4 to v\\d+ written to ${root}/tollgate\\.backup-v4-to-v\\d+-\\d{8}T\\d{9}Z\\.db`))
})

test('serve with a backup folder it cannot write refuses to migrate, with a clear message and no stack trace', async () => {
  writeFileSync(join(root, 'plain-file'), '')
  const run = await cli(['serve', '--config', config(`backup_dir = "${join(root, 'plain-file', 'backups')}"`)], { cwd: root })
  expect(run.code).toBe(1)
  expect(run.stderr).toContain(`error: database ${file} was not migrated`)
  expect(run.stderr).toContain('backup_before_migrate = false')
  expect(run.stderr).not.toMatch(/\n\s+at /)
  expect(run.stdout).not.toContain('listening on')
  expect(applied()).toBe(OLD.length)
})
