/**
 * The batch writer's thread. It owns its own connection (a local libSQL file through the
 * `libsql` binding, a remote libSQL server through @libsql/client, or PostgreSQL for a
 * `postgres://` URL), so the statements (which libSQL runs synchronously for local files)
 * never block the request-serving event loop.
 * Messages: `open` once, then `write` batches; every `write` is answered after its rows
 * are durable, or with the error. What a failure does depends on what it says
 * (src/db/write-errors.ts):
 * - the database is unreachable or busy (or anything not about one row): every row stays
 *   queued here, in order, and goes with the next write (the main thread backs off and
 *   bounds the queue);
 * - one row is at fault: the rows are written in halves, then quarters, … in order, so the
 *   good ones land and only the refused rows are dropped, each sent back to be logged.
 */
import { createClient, type InStatement } from '@libsql/client'
import { libsqlFileSink, localFilePath } from './libsql-file-sink'
import { pgStatements } from './pg/batch-sql'
import { isPostgresUrl, pgClient } from './pg/connect'
import { isolate } from './isolate-rows'
import { sqliteInsert } from './sqlite-batch-sql'
import { classifyWriteError, describeWriteError } from './write-errors'
import type { Backlog, DroppedRow, Sink, WriteBatch, WriterMessage, WriterReply } from './types'

declare const self: Worker

/** SQLite accepts up to 32766 bound values per statement; stay well below. */
const MAX_VALUES = 8000

let sink: Sink | undefined
let target: { url: string; authToken?: string } | undefined
/** Rows not yet written, one batch per table in the order the tables first came (rows in order within each). */
let pending: WriteBatch[] = []
let pendingRows = 0
let pendingBytes = 0

/**
 * A write that has not finished by then is given up as `unavailable` and its connection closed
 * (a server gone without a reset leaves a socket that answers nothing). It is retried whole:
 * every table the writer feeds takes a row twice harmlessly (OR IGNORE / OR REPLACE; the credit
 * ledger's usage rows through their unique ledger_id), even when the lost answer was a commit.
 */
const WRITE_TIMEOUT_MS = 30_000

function openSink(url: string, authToken?: string): Sink {
  const file = localFilePath(url)
  return isPostgresUrl(url) ? postgresSink(url) : file ? libsqlFileSink(file) : libsqlSink(url, authToken)
}

/** Bytes of rows as JSON (bigints as their digits), for the backlog's bound. */
function sizeOf(batches: WriteBatch[]): number {
  return JSON.stringify(batches, (_k, v) => (typeof v === 'bigint' ? v.toString() : ArrayBuffer.isView(v) ? v.byteLength : v)).length
}

const specKey = (b: WriteBatch) => `${b.verb}\u0000${b.table}\u0000${b.columns.join(',')}\u0000${b.conflict?.join(',') ?? ''}\u0000${b.conflictWhere ?? ''}`

/** Adds rows to the queue: a table already queued gets them after its own rows (the order that matters, for OR REPLACE and OR IGNORE). */
function enqueue(batches: WriteBatch[]): void {
  for (const b of batches) {
    if (!b.rows.length) continue
    const key = specKey(b)
    const q = pending.find((p) => specKey(p) === key)
    if (q) for (const r of b.rows) q.rows.push(r)
    else pending.push({ ...b, rows: b.rows.slice() })
    pendingRows += b.rows.length
  }
}

function backlog(): Backlog {
  return { rows: pendingRows, bytes: pendingBytes }
}

async function writeAll(batches: WriteBatch[]): Promise<void> {
  const s = (sink ??= openSink(target!.url, target!.authToken))
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`the write did not finish within ${WRITE_TIMEOUT_MS / 1000} s`), { code: 'WRITE_TIMEOUT' })), WRITE_TIMEOUT_MS)
  })
  const write = s.write(batches)
  try {
    await Promise.race([write, timeout])
  } catch (e) {
    if ((e as { code?: string }).code === 'WRITE_TIMEOUT') {
      write.catch(() => {})
      // A fresh connection for the retry; the stuck one is closed (its transaction rolls back unless it committed).
      if (sink === s) sink = undefined
      s.close().catch(() => {})
    }
    throw e
  } finally {
    clearTimeout(timer)
  }
}

function statements(batches: WriteBatch[]): InStatement[] {
  const out: InStatement[] = []
  for (const b of batches) {
    const per = Math.max(1, Math.floor(MAX_VALUES / b.columns.length))
    for (let i = 0; i < b.rows.length; i += per) {
      const slice = b.rows.slice(i, i + per)
      out.push({ sql: sqliteInsert(b, slice.length), args: slice.flat() as never[] })
    }
  }
  return out
}

/** Remote libSQL (sqld, Turso) and in-memory URLs; local files use libsqlFileSink. */
function libsqlSink(url: string, authToken?: string): Sink {
  // `timeout` is the busy timeout on every pooled connection (a PRAGMA reaches only one).
  const client = createClient({ url, authToken, timeout: 5000 })
  return {
    async write(batches) {
      const stmts = statements(batches)
      if (stmts.length) await client.batch(stmts, 'write')
    },
    async close() {
      client.close()
    },
  }
}

function postgresSink(url: string): Sink {
  let sql = pgClient(url, { max: 1 })
  return {
    async write(batches) {
      const stmts = pgStatements(batches)
      if (!stmts.length) return
      try {
        // Unnamed statements: the text varies with the row count, so preparing each would only fill a cache.
        await sql.begin(async (tx) => {
          for (const s of stmts) await tx.unsafe(s.text, s.args as never[], { prepare: false })
        })
      } catch (err) {
        // A postgres.js 3.4 pool whose connection died can keep failing with CONNECT_TIMEOUT
        // against a server that is back (porsager/postgres#1214): after a connection error the
        // next try gets a new client. Row errors keep the client.
        if (classifyWriteError(err) !== 'row') {
          const old = sql
          sql = pgClient(url, { max: 1 })
          void old.end({ timeout: 0 }).catch(() => {})
        }
        throw err
      }
    },
    async close() {
      await sql.end({ timeout: 5 })
    },
  }
}

self.onmessage = async (e: MessageEvent<WriterMessage>) => {
  const msg = e.data
  if (msg.kind === 'open') {
    target = { url: msg.url, authToken: msg.authToken }
    try {
      sink = openSink(msg.url, msg.authToken)
    } catch {
      // Opened again by the first write, whose failure then says why.
    }
    return
  }
  if (msg.kind === 'close') {
    await sink?.close().catch(() => {})
    self.postMessage({ id: msg.id, ok: true, written: 0, backlog: backlog() } satisfies WriterReply)
    return
  }
  const added = typeof msg.batches === 'string' ? (JSON.parse(msg.batches) as WriteBatch[]) : msg.batches
  enqueue(added)
  pendingBytes += typeof msg.batches === 'string' ? msg.batches.length : sizeOf(added)
  const todo = pending
  const rows = pendingRows
  if (!rows) {
    self.postMessage({ id: msg.id, ok: true, written: 0, backlog: backlog() } satisfies WriterReply)
    return
  }
  let failure: unknown
  try {
    await writeAll(todo)
    pending = []
    pendingRows = 0
    pendingBytes = 0
    self.postMessage({ id: msg.id, ok: true, written: rows, backlog: backlog() } satisfies WriterReply)
    return
  } catch (err) {
    failure = err
  }
  const kind = classifyWriteError(failure)
  if (kind !== 'row') {
    self.postMessage({ id: msg.id, ok: false, error: describeWriteError(failure), kind, written: 0, backlog: backlog() } satisfies WriterReply)
    return
  }
  const out = await isolate(todo, writeAll, failure)
  pending = out.rest
  pendingRows = out.rest.reduce((n, b) => n + b.rows.length, 0)
  pendingBytes = pendingRows ? sizeOf(pending) : 0
  const dropped = out.dropped.length ? out.dropped : undefined
  const rejected = dropped ? { rows: dropped.length, error: dropped[dropped.length - 1]!.error } : undefined
  if (out.halt !== undefined) {
    const error = describeWriteError(out.halt)
    self.postMessage({ id: msg.id, ok: false, error, kind: classifyWriteError(out.halt), written: out.written, rejected, dropped, backlog: backlog() } satisfies WriterReply)
  } else self.postMessage({ id: msg.id, ok: true, written: out.written, rejected, dropped, backlog: backlog() } satisfies WriterReply)
}
