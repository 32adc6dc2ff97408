/** The off-thread batch writer: batches land; a row the database refuses cannot block the rest. */
import { afterEach, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase, type Database } from '../../src/db/client'
import { BatchWriter, type TableSpec } from '../../src/db/batch-writer'

// Plain INSERT (SQLite's OR IGNORE would also swallow NOT NULL violations): a repeated id is a row the database refuses.
const LOG: TableSpec = { verb: 'INSERT INTO', table: 'request_log', columns: ['id', 'ts', 'method', 'path', 'status', 'duration_ms'] }
const dirs: string[] = []
const open: { db: Database; writer: BatchWriter }[] = []

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'tg-writer-'))
  dirs.push(dir)
  const url = `file:${join(dir, 't.db')}`
  const db = await openDatabase(url)
  const writer = new BatchWriter(url, undefined, 60_000)
  open.push({ db, writer })
  return { db, writer }
}

afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.writer.close()
    o.db.close()
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const ids = async (db: Database) => (await db.client.execute('SELECT id FROM request_log ORDER BY id')).rows.map((r) => r.id)

/** Queues a, a poison row (a's id again: the database refuses it, and with it the whole batch) and b; the flush writes none. */
async function failPoisonBatch(db: Database, writer: BatchWriter): Promise<void> {
  writer.insert(LOG, ['a', 1, 'POST', '/x', 200, 1])
  writer.insert(LOG, ['a', 2, 'POST', '/poison', 200, 1])
  writer.insert(LOG, ['b', 3, 'POST', '/x', 200, 1])
  await writer.flush()
  expect(await ids(db)).toEqual([])
}

test('queued rows are written by flush', async () => {
  const { db, writer } = await setup()
  for (let i = 0; i < 1200; i++) writer.insert(LOG, [`r${String(i).padStart(4, '0')}`, i, 'POST', '/x', 200, 1])
  await writer.flush()
  expect((await ids(db)).length).toBe(1200)
  expect(writer.written).toBe(1200)
})

test('a poison row is dropped on the second failure; the good rows land', async () => {
  const { db, writer } = await setup()
  await failPoisonBatch(db, writer)
  expect(writer.failures).toBe(1)
  writer.insert(LOG, ['c', 4, 'POST', '/x', 200, 1])
  await writer.flush()
  expect(await ids(db)).toEqual(['a', 'b', 'c'])
  expect(writer.dropped).toBe(1)
})

test('when no row goes in at all, nothing is dropped: the rows wait for the database', async () => {
  const { db, writer } = await setup()
  writer.insert(LOG, ['x', 1, 'POST', '/x', 200, 1])
  await writer.flush()
  writer.insert(LOG, ['x', 2, 'POST', '/again', 200, 1])
  await writer.flush()
  writer.insert(LOG, ['x', 3, 'POST', '/again', 200, 1])
  await writer.flush()
  await writer.flush()
  expect(await ids(db)).toEqual(['x'])
  expect(writer.dropped).toBe(0)
  expect(writer.failures).toBeGreaterThanOrEqual(2)
})

test('rows travel as JSON text or, holding a value JSON cannot carry, by structured clone; both land', async () => {
  const { db, writer } = await setup()
  writer.insert(LOG, ['j', 1, 'POST', '/x', 200, true])
  await writer.flush()
  // A bigint beyond 2^53 survives only the structured clone.
  writer.insert(LOG, ['k', 2n ** 60n, 'POST', '/x', 200, 1])
  writer.insert(LOG, ['l', 3, 'POST', '/x', 200, 1])
  await writer.flush()
  const rows = (await db.client.execute('SELECT id, CAST(ts AS TEXT) AS ts, duration_ms FROM request_log ORDER BY id')).rows.map((r) => [r.id, r.ts, r.duration_ms])
  expect(rows).toEqual([['j', '1', 1], ['k', String(2n ** 60n), 1], ['l', '3', 1]])
  expect(writer.written).toBe(3)
})

test('an undefined value is refused, not stored as NULL', async () => {
  const { db, writer } = await setup()
  writer.insert(LOG, ['u', 1, 'POST', undefined, 200, 1])
  writer.insert(LOG, ['v', 2, 'POST', '/x', 200, 1])
  await writer.flush()
  writer.insert(LOG, ['w', 3, 'POST', '/x', 200, 1])
  await writer.flush()
  expect(await ids(db)).toEqual(['v', 'w'])
  expect(writer.dropped).toBe(1)
})

test('rows of a failed write are retried by the next flush even when nothing new is queued (shutdown)', async () => {
  const { db, writer } = await setup()
  await failPoisonBatch(db, writer)
  // Nothing new: close() flushes like this, and must not leave a and b behind in the worker.
  await writer.flush()
  expect(await ids(db)).toEqual(['a', 'b'])
  expect(writer.dropped).toBe(1)
})
