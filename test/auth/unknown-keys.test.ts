/**
 * Well-formed keys with unknown ids do not cost a database query each: at most one change
 * counter check per recheck interval, then a bounded, short-lived negative cache that any key
 * change drops (refresh, invalidate — the path cluster notices take). An unknown id and a
 * known id with a wrong secret do the same work: neither touches the database, and their
 * lookup times match within a generous tolerance.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKey } from '../../src/auth/key-format'
import { KeyStore } from '../../src/auth/keystore'
import { parseConfig } from '../../src/config/load'
import type { Config } from '../../src/config/schema'
import { openDatabase, type Database } from '../../src/db/client'
import type { Db } from '../../src/db/client'
import { apiKeys } from '../../src/db/schema'

let database: Database
let dir: string
let config: Config
let queries = 0
/** The database as the store sees it, counting every query it starts. */
let counted: Db

const row = (k: ReturnType<typeof generateKey>) => ({ id: k.id, project: 'p', keySha256: k.sha256, displayPrefix: k.displayPrefix, createdAt: 1 })
/** A well-formed key whose id no row has. */
const unknownKey = () => generateKey().secret

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tollgate-unknown-keys-'))
  database = await openDatabase(`file:${join(dir, 'k.db')}`)
  config = (await parseConfig('[[projects]]\nid = "p"\n[database]\nurl = "file::memory:"\n', 'test.toml', {})).config
  const db = database.db
  counted = new Proxy(db, {
    get(t, p) {
      const v = Reflect.get(t, p)
      if (p === 'select') queries++
      return typeof v === 'function' ? v.bind(t) : v
    },
  })
})

afterAll(async () => {
  await database.close()
  rmSync(dir, { recursive: true, force: true })
})

async function store(now: () => number = Date.now, opts = {}) {
  const s = new KeyStore(counted, config, now, 1000, opts)
  await s.refresh()
  return s
}

test('the same unknown id, over and over: at most one database check', async () => {
  const s = await store()
  const secret = unknownKey()
  queries = 0
  for (let i = 0; i < 200; i++) expect(await s.lookup(secret)).toEqual({ ok: false, reason: 'unknown' })
  expect(queries).toBeLessThanOrEqual(1)
})

test('a flood of distinct unknown ids: one check per recheck interval, not one query each', async () => {
  let t = 1_000_000
  const s = await store(() => t, { recheckMs: 1000 })
  queries = 0
  await Promise.all(Array.from({ length: 500 }, () => s.lookup(unknownKey())))
  for (let i = 0; i < 500; i++) await s.lookup(unknownKey())
  expect(queries).toBeLessThanOrEqual(1)
  t += 1000
  for (let i = 0; i < 100; i++) await s.lookup(unknownKey())
  expect(queries).toBeLessThanOrEqual(2)
})

test('the negative cache is bounded and expires', async () => {
  let t = 5_000_000
  const s = await store(() => t, { recheckMs: 0, missingTtlMs: 2000, missingMax: 5 })
  for (let i = 0; i < 20; i++) await s.lookup(unknownKey())
  expect(s.missingCount).toBe(5)
  const k = generateKey()
  await s.lookup(k.secret)
  // Written by another process (the CLI): remembered as missing until the entry expires;
  // then the next check sees the change counter moved and loads it.
  await database.db.insert(apiKeys).values(row(k))
  queries = 0
  t += 2001
  expect((await s.lookup(k.secret)).ok).toBe(true)
  expect(queries).toBeGreaterThan(0)
})

test('a key created after an unknown lookup of its id works once the change is seen (refresh, invalidate, cluster notice)', async () => {
  let t = 9_000_000
  const s = await store(() => t, { recheckMs: 60_000, missingTtlMs: 60_000 })
  for (const apply of [() => s.refresh(), (id: string) => s.invalidate(id), () => s.invalidate()]) {
    const k = generateKey()
    t += 60_000
    expect(await s.lookup(k.secret)).toEqual({ ok: false, reason: 'unknown' })
    await database.db.insert(apiKeys).values(row(k))
    // Still remembered as missing: no query, still unknown.
    queries = 0
    expect(await s.lookup(k.secret)).toEqual({ ok: false, reason: 'unknown' })
    expect(queries).toBe(0)
    await apply(k.id)
    expect((await s.lookup(k.secret)).ok).toBe(true)
  }
})

test('an unknown id and a wrong secret: neither reaches the database, and they take the same time within noise', async () => {
  const s = await store()
  const known = generateKey()
  await database.db.insert(apiKeys).values(row(known))
  await s.refresh()
  const wrong = `tg_${known.id}_${'A'.repeat(32)}`
  const unknown = unknownKey()
  // Warm both paths (the unknown id is checked once, then remembered).
  for (let i = 0; i < 200; i++) {
    await s.lookup(wrong)
    await s.lookup(unknown)
  }
  queries = 0
  const times = { wrong: [] as number[], unknown: [] as number[] }
  // Interleaved, so load on a shared machine falls on both alike.
  for (let i = 0; i < 3000; i++) {
    for (const [name, secret] of [['wrong', wrong], ['unknown', unknown]] as const) {
      const t0 = Bun.nanoseconds()
      const r = await s.lookup(secret)
      times[name].push(Bun.nanoseconds() - t0)
      expect(r.ok).toBe(false)
    }
  }
  expect(queries).toBe(0)
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!
  const ratio = median(times.unknown) / median(times.wrong)
  // Generous: this checks the paths do the same work, not how fast they are.
  expect(ratio).toBeGreaterThan(0.5)
  expect(ratio).toBeLessThan(2)
})
