/** The writer's local-file sink: URLs read as @libsql/client reads them, values converted as it converts them, all-or-nothing writes. */
import { afterEach, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'libsql'
import { libsqlFileSink, localFilePath } from '../../src/db/libsql-file-sink'
import type { Sink, WriteBatch } from '../../src/db/types'

const dirs: string[] = []
const sinks: Sink[] = []

afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'tg-sink-'))
  dirs.push(dir)
  const path = join(dir, 't.db')
  const db = new Database(path)
  db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER, x)')
  const sink = libsqlFileSink(path)
  sinks.push(sink)
  const rows = () => db.prepare('SELECT id, n, typeof(n) AS tn, x, typeof(x) AS tx FROM t ORDER BY id').all() as Record<string, unknown>[]
  return { sink, rows }
}

const batch = (rows: unknown[][], verb = 'INSERT INTO'): WriteBatch => ({ verb, table: 't', columns: ['id', 'n', 'x'], rows })

test('file: URLs name the same file as @libsql/client; memory and foreign hosts stay on the client', () => {
  expect(localFilePath('file:data/tollgate.db')).toBe('data/tollgate.db')
  expect(localFilePath('file:/var/lib/tg.db')).toBe('/var/lib/tg.db')
  expect(localFilePath('file:///var/lib/tg.db')).toBe('/var/lib/tg.db')
  expect(localFilePath('file://localhost/var/lib/tg.db')).toBe('/var/lib/tg.db')
  expect(localFilePath('file:/var/lib/my%20db.db?tls=0')).toBe('/var/lib/my db.db')
  expect(localFilePath('FILE:x.db')).toBe('x.db')
  for (const url of ['file::memory:', ':memory:', 'file://example.com/x.db', 'file:%zz', 'libsql://x.turso.io', 'http://127.0.0.1:8080', 'postgres://h/db']) {
    expect(localFilePath(url)).toBeUndefined()
  }
})

test('values are converted as @libsql/client converts them (a boolean would abort the process in the binding)', async () => {
  const { sink, rows } = setup()
  await sink.write([batch([['a', true, false], ['b', 2n ** 40n, new Uint8Array([1, 2]).buffer], ['c', new Date(5), null]])])
  // The binding passes every JS number as a double (so does the client): an INTEGER column stores it as an integer, an untyped one as a real.
  expect(rows()).toEqual([
    { id: 'a', n: 1, tn: 'integer', x: 0, tx: 'real' },
    { id: 'b', n: 2 ** 40, tn: 'integer', x: new Uint8Array([1, 2]).buffer, tx: 'blob' },
    { id: 'c', n: 5, tn: 'integer', x: null, tx: 'null' },
  ])
})

test('a refused row rolls the whole write back; the statement cache survives it', async () => {
  const { sink, rows } = setup()
  for (const bad of [[undefined, 1, 1], ['u', NaN, 1], ['v', Infinity, 1], ['w', 1], ['x', 2n ** 64n, 1], ['a', 1, 1]]) {
    await expect(sink.write([batch([['a', 1, 1], bad])])).rejects.toThrow()
    expect(rows()).toEqual([])
  }
  await sink.write([batch([['a', 1, 'one']]), batch([['a', 2, 'two']], 'INSERT OR REPLACE INTO')])
  expect(rows()).toEqual([{ id: 'a', n: 2, tn: 'integer', x: 'two', tx: 'text' }])
})

test('a constraint failure names its SQLite code', async () => {
  const { sink } = setup()
  await expect(sink.write([batch([['a', 1, 1], ['a', 2, 2]])])).rejects.toThrow(/^SQLITE_CONSTRAINT_PRIMARYKEY: UNIQUE constraint failed: t\.id/)
})

test('long batches go in several rows per statement, in order, with the same all-or-nothing rule', async () => {
  const { sink, rows } = setup()
  const ids = Array.from({ length: 41 }, (_, i) => `r${String(i).padStart(2, '0')}`)
  // Later rows replace earlier ones with the same key, inside one multi-row statement and across two.
  const many = ids.map((id, i) => [id, i, true])
  await sink.write([batch(many), batch([['r03', 300, 'a'], ['r04', 400, 'b'], ['r03', 301, 'c'], ['r40', 4000, 'd']], 'INSERT OR REPLACE INTO')])
  const got = rows()
  expect(got.length).toBe(41)
  expect(got[3]).toEqual({ id: 'r03', n: 301, tn: 'integer', x: 'c', tx: 'text' })
  expect(got[4]).toEqual({ id: 'r04', n: 400, tn: 'integer', x: 'b', tx: 'text' })
  expect(got[40]).toEqual({ id: 'r40', n: 4000, tn: 'integer', x: 'd', tx: 'text' })
  expect(got[20]).toEqual({ id: 'r20', n: 20, tn: 'integer', x: 1, tx: 'real' })
  // A bad row in the middle of a multi-row statement refuses the whole write.
  const more = Array.from({ length: 40 }, (_, i) => [`s${i}`, i, i === 21 ? undefined : 1])
  await expect(sink.write([batch(more)])).rejects.toThrow()
  expect(rows().length).toBe(41)
})
