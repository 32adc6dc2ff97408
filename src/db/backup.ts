/**
 * Consistent copies of a local libSQL file, taken with SQLite's `VACUUM INTO` from one read
 * snapshot: safe while the gateway serves (the copy holds everything committed when it began).
 * `tollgate backup FILE` (src/cli/backup.ts) and the backup before migrating
 * (src/db/pre-migrate-backup.ts) both write them.
 */
import { chmod, open, rm } from 'node:fs/promises'
import type { Client } from '@libsql/client'

/**
 * Writes the copy to `to`, which must not exist. The copy holds the request log, sealed
 * credentials and key hashes: it is the owner's only (0600), whatever the umask. VACUUM INTO
 * accepts an existing empty file, so the file is made first with that mode; a failed copy is removed.
 */
export async function writeBackup(client: Client, to: string): Promise<void> {
  await (await open(to, 'wx', 0o600)).close()
  try {
    await chmod(to, 0o600)
    await client.execute({ sql: 'VACUUM INTO ?', args: [to] })
    await chmod(to, 0o600)
  } catch (e) {
    await rm(to, { force: true })
    throw e
  }
}
