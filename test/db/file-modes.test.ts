/** A new embedded database, its -wal/-shm files and a folder made for it are the owner's only, whatever the umask. */
import { expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../../src/db/client'

test('under umask 022: database 0600, -wal/-shm 0600, its new folder 0700', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tollgate-modes-'))
  const old = process.umask(0o022)
  try {
    const file = join(root, 'data', 'nested', 'tollgate.db')
    const db = await openDatabase(`file:${file}`)
    try {
      await db.client.execute('CREATE TABLE IF NOT EXISTS probe (x)')
      expect(statSync(file).mode & 0o777).toBe(0o600)
      for (const f of [`${file}-wal`, `${file}-shm`]) if (existsSync(f)) expect(statSync(f).mode & 0o777, f).toBe(0o600)
      expect(existsSync(`${file}-wal`)).toBe(true)
      expect(statSync(join(root, 'data', 'nested')).mode & 0o777).toBe(0o700)
      expect(statSync(join(root, 'data')).mode & 0o777).toBe(0o700)
    } finally {
      await db.close()
    }
  } finally {
    process.umask(old)
    rmSync(root, { recursive: true, force: true })
  }
})
