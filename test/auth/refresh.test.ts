/**
 * The key store's periodic refresh reads every key only when one changed: database triggers
 * bump a counter on any write to api_keys, and an unmoved counter skips the load. Proved by
 * writing behind a disabled trigger (unseen), then after it (seen, the earlier write too).
 * A full load reads the keys in pages, so a large table does not hold the event loop.
 * On libSQL and on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKey } from '../../src/auth/key-format'
import { KeyStore } from '../../src/auth/keystore'
import { parseConfig } from '../../src/config/load'
import { openDatabase, type Database } from '../../src/db/client'
import { apiKeys } from '../../src/db/schema'
import { createTestDatabase, dropTestDatabase, skipWithoutPostgres } from '../support/postgres'

const noPg = skipWithoutPostgres('key refresh on PostgreSQL')

for (const engine of ['libsql', 'postgres'] as const) {
  describe.skipIf(engine === 'postgres' && !!noPg)(`key refresh: ${engine}`, () => {
    let database: Database
    let done: () => Promise<void>
    beforeAll(async () => {
      if (engine === 'postgres') {
        const url = await createTestDatabase('keyrefresh')
        database = await openDatabase(url)
        done = () => dropTestDatabase(url)
      } else {
        const dir = mkdtempSync(join(tmpdir(), 'tollgate-keyrefresh-'))
        database = await openDatabase(`file:${join(dir, 'k.db')}`)
        done = async () => rmSync(dir, { recursive: true, force: true })
      }
    })
    afterAll(async () => {
      await database?.close()
      await done?.()
    })

    /** Runs `write` with the update trigger off: a change the counter does not see. */
    async function behindTrigger(write: string) {
      if (engine === 'postgres') {
        await database.client.execute('ALTER TABLE api_keys DISABLE TRIGGER api_keys_changed')
        await database.client.execute(write)
        await database.client.execute('ALTER TABLE api_keys ENABLE TRIGGER api_keys_changed')
        return
      }
      const [trigger] = (await database.client.execute(`SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'api_keys_changed_update'`)).rows
      await database.client.execute('DROP TRIGGER api_keys_changed_update')
      await database.client.execute(write)
      await database.client.execute(String(trigger!.sql))
    }

    test('an unchanged counter skips the load; the next change loads everything', async () => {
      const config = (await parseConfig('[[projects]]\nid = "p"\n[database]\nurl = "file::memory:"\n', 'test.toml', {})).config
      const store = new KeyStore(database.db, config)
      const row = (k: ReturnType<typeof generateKey>) => ({ id: k.id, project: 'p', keySha256: k.sha256, displayPrefix: k.displayPrefix, createdAt: 1 })
      const first = generateKey()
      await database.db.insert(apiKeys).values(row(first))
      await store.refresh()
      expect((await store.lookup(first.secret)).ok).toBe(true)

      await behindTrigger(`UPDATE api_keys SET revoked_at = 5 WHERE id = '${first.id}'`)
      await store.refresh()
      // Unseen: the counter did not move, so the refresh kept what it had.
      expect((await store.lookup(first.secret)).ok).toBe(true)

      const second = generateKey()
      await database.db.insert(apiKeys).values(row(second))
      await store.refresh()
      expect(await store.lookup(first.secret)).toEqual({ ok: false, reason: 'unknown' })
      expect((await store.lookup(second.secret)).ok).toBe(true)
    })

    test('a full load reads every key, page by page (a page boundary included), and drops deleted ones', async () => {
      const config = (await parseConfig('[[projects]]\nid = "p"\n[database]\nurl = "file::memory:"\n', 'test.toml', {})).config
      const row = (k: ReturnType<typeof generateKey>) => ({ id: k.id, project: 'p', keySha256: k.sha256, displayPrefix: k.displayPrefix, createdAt: 1 })
      await database.db.delete(apiKeys)
      // 9 keys in pages of 3: the last page is full, so the load must ask once more and stop on an empty one.
      const keys = Array.from({ length: 9 }, () => generateKey())
      await database.db.insert(apiKeys).values(keys.map(row))
      const store = new KeyStore(database.db, config, Date.now, 3)
      await store.refresh()
      for (const k of keys) expect((await store.lookup(k.secret)).ok).toBe(true)

      const extra = generateKey()
      await database.db.insert(apiKeys).values(row(extra))
      await database.client.execute(`DELETE FROM api_keys WHERE id = '${keys[4]!.id}'`)
      await store.refresh()
      expect((await store.lookup(extra.secret)).ok).toBe(true)
      expect(await store.lookup(keys[4]!.secret)).toEqual({ ok: false, reason: 'unknown' })
      for (const k of keys.filter((_, i) => i !== 4)) expect((await store.lookup(k.secret)).ok).toBe(true)
    })
  })
}
