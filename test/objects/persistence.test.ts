/**
 * Ownership records live in the database, on both engines: a restarted gateway still refuses
 * project B and serves project A (read-through from the table, nothing in memory), records
 * reach the table through the batched writer only, and rows are pruned once the provider has
 * dropped the object (its expiry plus a day's grace).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import OpenAI, { toFile } from 'openai'
import { parseConfig } from '../../src/config/load'
import { openDatabase } from '../../src/db/client'
import { providerObjects } from '../../src/db/schema-objects'
import { createGateway, type Gateway } from '../../src/gateway'
import { ObjectRetention, ObjectStore } from '../../src/objects'
import { GRACE_MS } from '../../src/objects/retention'
import { listenQuietly } from '../support/gateway'
import { createTestDatabase, dropTestDatabase, skipWithoutPostgres } from '../support/postgres'
import { KEY_A, KEY_B, objectsToml } from './config'
import { startObjectUpstream, type ObjectUpstream } from './upstream'

const noPg = skipWithoutPostgres('object records on PostgreSQL')

const engines: { name: string; skip?: boolean; open: () => Promise<{ url: string; done: () => Promise<void> }> }[] = [
  {
    name: 'libsql',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'tollgate-objects-'))
      return { url: `file:${join(dir, 'o.db')}`, done: async () => rmSync(dir, { recursive: true, force: true }) }
    },
  },
  {
    name: 'postgres',
    skip: !!noPg,
    async open() {
      const url = await createTestDatabase('objects')
      return { url, done: () => dropTestDatabase(url) }
    },
  },
]

let upstream: ObjectUpstream
beforeAll(async () => {
  upstream = await startObjectUpstream()
})
afterAll(() => upstream?.stop())

async function boot(databaseUrl: string): Promise<{ url: string; gw: Gateway; stop: () => Promise<void> }> {
  const toml = `${objectsToml(upstream.url)}\n[logging]\nlevel = "off"\n\n[database]\nurl = "${databaseUrl}"\n\n[log]\nflush_interval_ms = 50\n`
  const gw = await createGateway(await parseConfig(toml, 'test.toml', process.env), { announce: () => {} })
  const server = listenQuietly(gw)
  return { url: server.url, gw, stop: () => server.stop() }
}

/** The HTTP status an SDK call failed with (the SDK's promise is awaited here, not by expect). */
async function statusOf(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p
    return 200
  } catch (e) {
    return (e as { status?: number }).status
  }
}

for (const engine of engines) {
  describe.skipIf(!!engine.skip)(`object records on ${engine.name}`, () => {
    let url: string
    let done: () => Promise<void>
    beforeAll(async () => {
      const o = await engine.open()
      url = o.url
      done = o.done
    })
    afterAll(async () => done?.())

    test('a restart keeps ownership: read through from the database', async () => {
      const first = await boot(url)
      const a1 = new OpenAI({ apiKey: KEY_A, baseURL: `${first.url}/openai`, maxRetries: 0 })
      const file = await a1.files.create({ file: await toFile(Buffer.from('x'), 'in.jsonl'), purpose: 'batch' })
      const sent = Date.now()
      const resp = await a1.responses.create({ model: 'gpt-4o-mini', input: 'hi' })
      const answered = Date.now()
      // Stopping flushes the batched writer: both records are in the table now.
      await first.stop()

      const check = await openDatabase(url)
      const rows = await check.db.select().from(providerObjects)
      await check.close()
      expect(rows.map((r) => [r.provider, r.kind, r.objectId, r.project]).sort()).toEqual(
        [
          ['openai', 'file', file.id, 'a'],
          ['openai', 'response', resp.id, 'a'],
        ].sort(),
      )
      const response = rows.find((r) => r.kind === 'response')!
      // Stored responses are kept 30 days from their creation (as the gateway saw it).
      expect(response.expiresAt).toBeGreaterThanOrEqual(sent + 30 * 86_400_000)
      expect(response.expiresAt).toBeLessThanOrEqual(answered + 30 * 86_400_000)
      expect(typeof response.createdAt).toBe('number')

      const second = await boot(url)
      try {
        const a = new OpenAI({ apiKey: KEY_A, baseURL: `${second.url}/openai`, maxRetries: 0 })
        const b = new OpenAI({ apiKey: KEY_B, baseURL: `${second.url}/openai`, maxRetries: 0 })
        const before = upstream.total()
        expect(await statusOf(b.files.retrieve(file.id))).toBe(404)
        expect(await statusOf(b.responses.retrieve(resp.id))).toBe(404)
        expect(upstream.total()).toBe(before)
        expect((await a.files.retrieve(file.id)).id).toBe(file.id)
        expect((await a.responses.retrieve(resp.id)).id).toBe(resp.id)
        expect((await a.files.list()).data.map((f) => f.id)).toContain(file.id)
        expect((await b.files.list()).data.map((f) => f.id)).not.toContain(file.id)
      } finally {
        await second.stop()
      }
    })

    test('records go through the batched writer; reads of an unchanged object write nothing', async () => {
      const database = await openDatabase(url)
      const inserts: unknown[][] = []
      const store = new ObjectStore(database.db, { insert: (_spec, row) => void inserts.push(row) })
      store.record('openai', 'file', 'file-w1', 'a')
      store.record('openai', 'file', 'file-w1', 'a')
      // Ownership never moves: another project's answer naming the id changes nothing.
      store.record('openai', 'file', 'file-w1', 'b')
      expect(inserts.length).toBe(1)
      expect(store.owner('openai', 'file', 'file-w1')).toEqual({ project: 'a', expiresAt: null })
      // A moved expiry (a PATCHed cached content) is written.
      store.record('gemini', 'cached_content', 'c1', 'a', 1_000)
      store.record('gemini', 'cached_content', 'c1', 'a', 2_000)
      expect(inserts.length).toBe(3)
      // Nothing reached the table: the test writer only queued.
      expect(await database.db.select().from(providerObjects).where(eq(providerObjects.objectId, 'file-w1'))).toEqual([])
      // Ids no provider uses are neither cached nor queried.
      expect(store.owner('openai', 'file', 'x'.repeat(300))).toBeUndefined()
      expect(store.owner('openai', 'file', 'a\nb')).toBeUndefined()
      await database.close()
    })

    test('rows are pruned a day after the object expires; live and unexpiring rows stay', async () => {
      const database = await openDatabase(url)
      const t = Date.now()
      const row = (objectId: string, expiresAt: number | null) => ({ provider: 'gemini', kind: 'file', objectId, project: 'a', createdAt: t - 10 * 86_400_000, expiresAt })
      await database.db.insert(providerObjects).values([row('gone', t - GRACE_MS - 1), row('grace', t - GRACE_MS + 60_000), row('live', t + 3_600_000), row('kept', null)])
      const lines: string[] = []
      const retention = new ObjectRetention(database.db, () => t, (l) => lines.push(l))
      expect(await retention.prune()).toBe(1)
      const left = (await database.db.select({ id: providerObjects.objectId }).from(providerObjects).where(eq(providerObjects.provider, 'gemini'))).map((r) => r.id).sort()
      expect(left).toEqual(['grace', 'kept', 'live'])
      expect(lines).toEqual(['objects: forgot 1 expired object(s)'])
      // An expired owner is no owner: its object is refused as unknown.
      const store = new ObjectStore(database.db, { insert() {} }, () => t)
      expect(await store.owner('gemini', 'file', 'grace')).toBeUndefined()
      expect(await store.owner('gemini', 'file', 'live')).toEqual({ project: 'a', expiresAt: t + 3_600_000 })
      await retention.stop()
      await database.close()
    })
  })
}
