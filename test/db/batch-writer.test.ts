/**
 * The off-thread batch writer: batches land; a row the database refuses is dropped at once,
 * alone, and logged in full; a database that cannot take writes (refused connection, a lock
 * held by another process) loses nothing: rows wait in order, bounded, and land when it is back.
 */
import { afterEach, expect, spyOn, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase, type Database } from '../../src/db/client'
import Libsql from 'libsql'
import { BatchWriter, type TableSpec } from '../../src/db/batch-writer'
import { freePort } from '../support/ports'

// Plain INSERT (SQLite's OR IGNORE would also swallow NOT NULL violations): a repeated id is a row the database refuses.
const LOG: TableSpec = { verb: 'INSERT INTO', table: 'request_log', columns: ['id', 'ts', 'method', 'path', 'status', 'duration_ms'] }
const dirs: string[] = []
const open: { db: Database; writer: BatchWriter }[] = []

async function setup(opts: ConstructorParameters<typeof BatchWriter>[3] = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tg-writer-'))
  dirs.push(dir)
  const file = join(dir, 't.db')
  const url = `file:${file}`
  const db = await openDatabase(url)
  const writer = new BatchWriter(url, undefined, 60_000, opts)
  open.push({ db, writer })
  return { db, writer, file }
}

afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.writer.close()
    o.db.close()
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const ids = async (db: Database) => (await db.client.execute('SELECT id FROM request_log ORDER BY id')).rows.map((r) => r.id)

test('queued rows are written by flush', async () => {
  const { db, writer } = await setup()
  for (let i = 0; i < 1200; i++) writer.insert(LOG, [`r${String(i).padStart(4, '0')}`, i, 'POST', '/x', 200, 1])
  await writer.flush()
  expect((await ids(db)).length).toBe(1200)
  expect(writer.written).toBe(1200)
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

test('a poison row is dropped at the first failure, alone; the rows around it land in order; the drop is logged in full', async () => {
  const { db, writer } = await setup()
  const errors = spyOn(console, 'error').mockImplementation(() => {})
  try {
    for (let i = 0; i < 40; i++) writer.insert(LOG, [`r${String(i).padStart(2, '0')}`, i, 'POST', '/x', 200, 1])
    // r07 again: the database refuses it (and with it the whole batch).
    writer.insert(LOG, ['r07', 99, 'POST', '/poison', 200, 1])
    for (let i = 40; i < 50; i++) writer.insert(LOG, [`r${i}`, i, 'POST', '/x', 200, 1])
    await writer.flush()
    expect((await ids(db)).length).toBe(50)
    expect(writer.dropped).toBe(1)
    expect(writer.written).toBe(50)
    expect(writer.failures).toBe(0)
    const line = errors.mock.calls.map((c) => String(c[0])).find((l) => l.includes('dropped a row'))!
    expect(line).toContain('UNIQUE constraint failed')
    expect(line).toContain('{"id":"r07","ts":99,"method":"POST","path":"/poison","status":200,"duration_ms":1}')
    // Nothing is retried: the next flush has nothing to do.
    await writer.flush()
    expect(writer.failures).toBe(0)
  } finally {
    errors.mockRestore()
  }
})

test('a database that refuses connections: nothing is dropped, rows are kept and counted, the bound makes the writer full', async () => {
  // A libSQL server URL on a port nobody listens on: every write fails with a real ECONNREFUSED.
  const writer = new BatchWriter(`http://127.0.0.1:${freePort()}`, undefined, 60_000, { maxRows: 100, closeRetryMs: 0 })
  const errors = spyOn(console, 'error').mockImplementation(() => {})
  try {
    for (let i = 0; i < 60; i++) writer.insert(LOG, [`a${i}`, i, 'POST', '/x', 200, 1])
    await writer.flush()
    expect(writer.failures).toBe(1)
    expect(writer.lastError?.kind).toBe('unavailable')
    expect(writer.backlog.rows).toBe(60)
    expect(writer.backlog.bytes).toBeGreaterThan(60 * 20)
    // Within the backoff a flush keeps new rows here and does not try.
    for (let i = 60; i < 99; i++) writer.insert(LOG, [`a${i}`, i, 'POST', '/x', 200, 1])
    await writer.flush()
    expect(writer.failures).toBe(1)
    expect(writer.full).toBe(false)
    writer.insert(LOG, ['a99', 99, 'POST', '/x', 200, 1])
    expect(writer.full).toBe(true)
    // While full: a refused request's row is shed (counted), a served request's row is kept.
    writer.insert(LOG, ['refused', 100, 'POST', '/x', 401, 1], true)
    writer.insert(LOG, ['served', 101, 'POST', '/x', 200, 1])
    expect(writer.backlog.rows).toBe(101)
    expect(writer.shed).toBe(1)
    await writer.flush(true)
    expect(writer.failures).toBe(2)
    expect(writer.backlog.rows).toBe(101)
    expect(writer.dropped).toBe(1)
    await writer.close()
    expect(errors.mock.calls.some((c) => String(c[0]).includes('101 row(s) could not be written before exit'))).toBe(true)
  } finally {
    errors.mockRestore()
  }
})

test('a write lock held by another connection for 6 s: rows wait in order (the latest state of a key wins) and all land after it', async () => {
  const spec: TableSpec = { verb: 'INSERT OR REPLACE INTO', table: 'request_log', columns: ['id', 'ts', 'method', 'path', 'status', 'duration_ms'] }
  const { db, writer, file } = await setup({ maxRows: 1000 })
  const errors = spyOn(console, 'error').mockImplementation(() => {})
  // Another connection (a backup, a shell) takes the write lock; the writer's busy timeout is 5 s.
  const other = new Libsql(file)
  try {
    other.exec('BEGIN IMMEDIATE')
    const released = Bun.sleep(6000).then(() => other.exec('COMMIT'))
    for (let i = 0; i < 20; i++) writer.insert(spec, [`k${i}`, i, 'POST', '/reserved', 0, 0])
    const first = writer.flush()
    await Bun.sleep(100)
    // Queued while the first write waits on the lock: the same keys, settled.
    for (let i = 0; i < 20; i++) writer.insert(spec, [`k${i}`, i, 'POST', '/settled', 200, 1])
    expect(writer.backlog.rows).toBe(40)
    await first
    expect(writer.failures).toBe(1)
    expect(writer.lastError?.error).toContain('SQLITE_BUSY')
    await released
    await writer.flush(true)
    const rows = (await db.client.execute('SELECT path FROM request_log')).rows.map((r) => r.path)
    expect(rows).toEqual(Array(20).fill('/settled'))
    expect(writer.dropped).toBe(0)
    expect(writer.backlog.rows).toBe(0)
  } finally {
    other.close()
    errors.mockRestore()
  }
}, 20_000)
