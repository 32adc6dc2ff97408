/**
 * The batch writer's reading of write errors (src/db/write-errors.ts), on real errors from the
 * drivers it uses: a refused connection (postgres.js, @libsql/client), a locked file (the libsql
 * binding), constraint and type errors on both engines, a terminated PostgreSQL session.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from '@libsql/client'
import Libsql from 'libsql'
import postgres from 'postgres'
import { classifyWriteError, describeWriteError } from '../../src/db/write-errors'
import { freePort } from '../support/ports'
import { createTestDatabase, dropTestDatabase, skipWithoutPostgres } from '../support/postgres'

async function caught(f: () => unknown): Promise<unknown> {
  try {
    await f()
  } catch (e) {
    return e
  }
  throw new Error('no error')
}

const dir = mkdtempSync(join(tmpdir(), 'tg-write-errors-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('libSQL', () => {
  const file = join(dir, 't.db')
  const a = new Libsql(file)
  a.exec('PRAGMA journal_mode=WAL')
  a.exec('CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL)')
  a.prepare('INSERT INTO t VALUES (?, ?)').run(['a', 1])

  test('a refused connection to a libSQL server, and a write lock held elsewhere, are unavailable', async () => {
    const refused = await caught(() => createClient({ url: `http://127.0.0.1:${freePort()}` }).execute('SELECT 1'))
    expect(classifyWriteError(refused)).toBe('unavailable')
    const b = new Libsql(file, { timeout: 50 })
    a.exec('BEGIN IMMEDIATE')
    const busy = await caught(() => b.exec('BEGIN IMMEDIATE'))
    a.exec('COMMIT')
    expect(classifyWriteError(busy)).toBe('unavailable')
    expect(describeWriteError(busy)).toBe('SQLITE_BUSY: database is locked')
  })

  test('constraint errors and values the binding cannot take concern the row; a missing table is neither', async () => {
    const st = a.prepare('INSERT INTO t VALUES (?, ?)')
    expect(classifyWriteError(await caught(() => st.run(['a', 2])))).toBe('row')
    expect(classifyWriteError(await caught(() => st.run(['b', null])))).toBe('row')
    expect(classifyWriteError(await caught(() => st.run(['c', { x: 1 }])))).toBe('row')
    // Through @libsql/client, whose batch error wraps the binding's.
    const viaClient = await caught(() => createClient({ url: `file:${file}` }).batch([{ sql: 'INSERT INTO t VALUES (?, ?)', args: ['a', 1] }], 'write'))
    expect(classifyWriteError(viaClient)).toBe('row')
    expect(classifyWriteError(await caught(() => a.exec('INSERT INTO nowhere VALUES (1)')))).toBe('other')
  })

  test('a bug in our own code is not a row fault (it would drop every row)', () => {
    expect(classifyWriteError(new TypeError("Cannot read properties of undefined (reading 'rows')"))).toBe('other')
  })
})

const noPg = skipWithoutPostgres('PostgreSQL write-error tests')

describe.skipIf(!!noPg)('PostgreSQL', () => {
  let url: string
  afterAll(async () => {
    if (url) await dropTestDatabase(url)
  })

  test('refused and terminated connections are unavailable; constraint and type errors concern the row', async () => {
    const refused = await caught(() => postgres(`postgres://x@127.0.0.1:${freePort()}/db`, { max: 1, connect_timeout: 2 })`SELECT 1`)
    expect(classifyWriteError(refused)).toBe('unavailable')
    url = await createTestDatabase('errors')
    const sql = postgres(url, { max: 1, onnotice: () => {} })
    const admin = postgres(url, { max: 1, onnotice: () => {} })
    try {
      await sql`CREATE TABLE t (id text PRIMARY KEY, n bigint NOT NULL)`
      await sql`INSERT INTO t VALUES ('a', 1)`
      expect(classifyWriteError(await caught(() => sql`INSERT INTO t VALUES ('a', 2)`))).toBe('row')
      expect(classifyWriteError(await caught(() => sql.unsafe('INSERT INTO t VALUES ($1, $2)', ['b', 'not a number'])))).toBe('row')
      expect(classifyWriteError(await caught(() => sql.unsafe('INSERT INTO t VALUES ($1, $2)', ['c', undefined as never])))).toBe('row')
      // A session terminated under a running statement (what a server shutdown does).
      const [{ pid }] = (await sql`SELECT pg_backend_pid() AS pid`) as unknown as [{ pid: number }]
      const running = caught(() => sql`SELECT pg_sleep(2)`)
      await Bun.sleep(100)
      await admin`SELECT pg_terminate_backend(${pid})`
      const terminated = await running
      expect(classifyWriteError(terminated)).toBe('unavailable')
      expect(classifyWriteError(await caught(() => admin`INSERT INTO nowhere VALUES (1)`))).toBe('other')
    } finally {
      await sql.end({ timeout: 1 })
      await admin.end({ timeout: 1 })
    }
  })
})
