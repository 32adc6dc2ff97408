/**
 * `tollgate backup FILE`: a consistent copy of the embedded database, taken with SQLite's
 * `VACUUM INTO` from one read snapshot, so it is safe while the gateway serves (the batched
 * writer keeps writing; the copy holds everything committed when it began). PostgreSQL and
 * remote libSQL servers have their own backups.
 */
import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { defineCommand } from 'citty'
import { writeBackup } from '../db/backup'
import { engineOf } from '../db/client'
import { localFilePath } from '../db/libsql-file-sink'
import { configArg, fail, loadOrExit, withDatabase } from './shared'

export const backupCommand = defineCommand({
  meta: { name: 'backup', description: 'Write a consistent copy of the embedded database to a new file (safe while the gateway runs)' },
  args: {
    ...configArg,
    file: { type: 'positional', required: true, description: 'The copy to write; it must not exist yet' },
  },
  async run({ args }) {
    const loaded = await loadOrExit(args.config)
    const url = loaded.config.database.url
    if (engineOf(url) === 'postgres') fail('the database is PostgreSQL: back it up with pg_dump (or your provider\'s snapshots)')
    if (!localFilePath(url)) fail(`database.url "${url.split('?')[0]}" is not a local file: back up a libSQL server with its own tools`)
    const to = resolve(args.file)
    if (existsSync(to)) fail(`${to} already exists; give a new file name`)
    // Mode 0600: the copy holds the request log, sealed credentials and key hashes (src/db/backup.ts).
    await withDatabase(loaded, (db) => writeBackup(db.client, to))
    console.log(`backup written: ${to} (${(statSync(to).size / 1024 / 1024).toFixed(1)} MiB). Restore by stopping the gateway and putting it in place of ${localFilePath(url)}.`)
  },
})
