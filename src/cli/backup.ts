/**
 * `tollgate backup FILE`: a consistent copy of the embedded database, taken with SQLite's
 * `VACUUM INTO` from one read snapshot, so it is safe while the gateway serves (the batched
 * writer keeps writing; the copy holds everything committed when it began). PostgreSQL and
 * remote libSQL servers have their own backups.
 */
import { chmodSync, closeSync, existsSync, openSync, rmSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { defineCommand } from 'citty'
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
    // The copy holds the request log, sealed credentials and key hashes: the owner's only, whatever
    // the umask. VACUUM INTO accepts an existing empty file, so it is made first with mode 0600.
    closeSync(openSync(to, 'wx', 0o600))
    chmodSync(to, 0o600)
    try {
      await withDatabase(loaded, (db) => db.client.execute({ sql: 'VACUUM INTO ?', args: [to] }))
    } catch (e) {
      rmSync(to, { force: true })
      throw e
    }
    chmodSync(to, 0o600)
    console.log(`backup written: ${to} (${(statSync(to).size / 1024 / 1024).toFixed(1)} MiB). Restore by stopping the gateway and putting it in place of ${localFilePath(url)}.`)
  },
})
