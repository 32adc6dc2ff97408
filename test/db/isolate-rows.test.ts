/**
 * Isolation after a write failed on a row's fault (src/db/isolate-rows.ts), over the real
 * libSQL file sink: only the refused rows are dropped; and when the database goes away in the
 * middle (here the writes go on to a libSQL server URL nobody listens on: real ECONNREFUSED),
 * it halts and every row not yet written stays, in order, none dropped for it.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from '@libsql/client'
import { openDatabase } from '../../src/db/client'
import { isolate } from '../../src/db/isolate-rows'
import { libsqlFileSink } from '../../src/db/libsql-file-sink'
import type { WriteBatch } from '../../src/db/types'
import { freePort } from '../support/ports'

const dir = mkdtempSync(join(tmpdir(), 'tg-isolate-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const COLUMNS = ['id', 'ts', 'method', 'path', 'status', 'duration_ms']
const batch = (ids: string[]): WriteBatch => ({ verb: 'INSERT INTO', table: 'request_log', columns: COLUMNS, rows: ids.map((id, i) => [id, i, 'POST', '/x', 200, 1]) })

async function setup(name: string) {
  const url = `file:${join(dir, name)}`
  const db = await openDatabase(url)
  const sink = libsqlFileSink(join(dir, name))
  const ids = async () => (await db.client.execute('SELECT id FROM request_log ORDER BY ts, id')).rows.map((r) => r.id as string)
  return { db, sink, ids }
}

async function failure(f: () => Promise<void>): Promise<unknown> {
  try {
    await f()
  } catch (e) {
    return e
  }
  throw new Error('the write did not fail')
}

test('two refused rows among 64: those two are dropped with their error, the 62 others land in order', async () => {
  const { db, sink, ids } = await setup('a.db')
  await sink.write([batch(['dup1', 'dup2'])])
  const names = Array.from({ length: 64 }, (_, i) => (i === 9 ? 'dup1' : i === 50 ? 'dup2' : `r${String(i).padStart(2, '0')}`))
  const b = batch(names)
  const first = await failure(() => sink.write([b]))
  let writes = 0
  const out = await isolate([b], (x) => (writes++, sink.write(x)), first)
  expect(out.dropped.map((d) => d.row[0])).toEqual(['dup1', 'dup2'])
  expect(out.dropped[0]!.error).toContain('SQLITE_CONSTRAINT')
  expect(out.written).toBe(62)
  expect(out.rest).toEqual([])
  expect(out.halt).toBeUndefined()
  expect(writes).toBeLessThanOrEqual(2 * 2 * 6 + 2)
  expect((await ids()).filter((i) => i.startsWith('r')).length).toBe(62)
  await sink.close()
  db.close()
})

test('the database goes away during isolation: it halts, nothing more is dropped, the rest stays in order', async () => {
  const { db, sink, ids } = await setup('b.db')
  await sink.write([batch(['dup'])])
  const names = Array.from({ length: 16 }, (_, i) => (i === 2 ? 'dup' : `r${String(i).padStart(2, '0')}`))
  const b = batch(names)
  const log = { verb: 'INSERT OR REPLACE INTO', table: 'request_log', columns: COLUMNS, rows: [['late', 99, 'POST', '/y', 200, 1]] }
  const first = await failure(() => sink.write([b, log]))
  // After four writes the database is unreachable: a libSQL server URL on a port nobody listens on.
  const away = createClient({ url: `http://127.0.0.1:${freePort()}` })
  let writes = 0
  const out = await isolate([b, log], async (x) => {
    if (++writes <= 4) return sink.write(x)
    await away.execute('SELECT 1')
  }, first)
  // 17 rows: [0,9) fails (dup at 2), [0,5) fails, [0,3) fails, [0,2) lands, [2,3) → ECONNREFUSED: halt; dup is kept, not dropped.
  expect(out.written).toBe(2)
  expect(out.dropped).toEqual([])
  expect((out.halt as { code?: string }).code).toBe('ECONNREFUSED')
  expect(out.rest.map((r) => [r.verb, r.rows.map((row) => row[0])])).toEqual([
    ['INSERT INTO', names.slice(2)],
    ['INSERT OR REPLACE INTO', ['late']],
  ])
  expect(await ids()).toEqual(['dup', 'r00', 'r01'])
  await sink.close()
  db.close()
})
