/**
 * The batch writer's thread. It owns its own connection (a local libSQL file through the
 * `libsql` binding, a remote libSQL server through @libsql/client, or PostgreSQL for a
 * `postgres://` URL), so the statements (which libSQL runs synchronously for local files)
 * never block the request-serving event loop.
 * Messages: `open` once, then `write` batches; every `write` is answered after its rows
 * are durable, or with the error (the rows are kept and retried with the next write).
 */
import { createClient, type InStatement } from '@libsql/client'
import { libsqlFileSink, localFilePath } from './libsql-file-sink'
import { pgStatements } from './pg/batch-sql'
import { isPostgresUrl, pgClient } from './pg/connect'

declare const self: Worker

/** One table's queued rows; the fields are a TableSpec's (src/db/batch-writer.ts). */
export interface WriteBatch {
  verb: string
  table: string
  columns: readonly string[]
  conflict?: readonly string[]
  rows: unknown[][]
}

export type WriterMessage =
  | { kind: 'open'; url: string; authToken?: string }
  /** `batches` as JSON text when every value is a JSON scalar (src/db/batch-writer.ts encode). */
  | { kind: 'write'; id: number; batches: WriteBatch[] | string }
  | { kind: 'close'; id: number }

export type WriterReply =
  | { id: number; ok: true; written: number; rejected?: { rows: number; error: string } }
  | { id: number; ok: false; error: string }

/** SQLite accepts up to 32766 bound values per statement; stay well below. */
const MAX_VALUES = 8000

/** Where batches go: both engines write every batch of one message in one transaction. */
export interface Sink {
  write(batches: WriteBatch[]): Promise<void>
  close(): Promise<void>
}

let sink: Sink | undefined
let pending: WriteBatch[] = []
/** The last write failed; a second failure in a row looks for a row the database refuses. */
let failedBefore = false

function statements(batches: WriteBatch[]): InStatement[] {
  const out: InStatement[] = []
  for (const b of batches) {
    const width = b.columns.length
    const head = `${b.verb} ${b.table} (${b.columns.join(', ')})`
    const per = Math.max(1, Math.floor(MAX_VALUES / width))
    const tuple = `(${Array(width).fill('?').join(',')})`
    for (let i = 0; i < b.rows.length; i += per) {
      const slice = b.rows.slice(i, i + per)
      out.push({ sql: `${head} VALUES ${Array(slice.length).fill(tuple).join(',')}`, args: slice.flat() as never[] })
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
  const sql = pgClient(url, { max: 1 })
  return {
    async write(batches) {
      const stmts = pgStatements(batches)
      if (!stmts.length) return
      // Unnamed statements: the text varies with the row count, so preparing each would only fill a cache.
      await sql.begin(async (tx) => {
        for (const s of stmts) await tx.unsafe(s.text, s.args as never[], { prepare: false })
      })
    },
    async close() {
      await sql.end({ timeout: 5 })
    },
  }
}

self.onmessage = async (e: MessageEvent<WriterMessage>) => {
  const msg = e.data
  if (msg.kind === 'open') {
    const file = localFilePath(msg.url)
    sink = isPostgresUrl(msg.url) ? postgresSink(msg.url) : file ? libsqlFileSink(file) : libsqlSink(msg.url, msg.authToken)
    return
  }
  if (msg.kind === 'close') {
    await sink?.close().catch(() => {})
    self.postMessage({ id: msg.id, ok: true, written: 0 } satisfies WriterReply)
    return
  }
  pending = pending.concat(typeof msg.batches === 'string' ? (JSON.parse(msg.batches) as WriteBatch[]) : msg.batches)
  const todo = pending
  const rows = todo.reduce((n, b) => n + b.rows.length, 0)
  try {
    await sink!.write(todo)
    pending = []
    failedBefore = false
    self.postMessage({ id: msg.id, ok: true, written: rows } satisfies WriterReply)
  } catch (err) {
    if (failedBefore) {
      const isolated = await isolate(todo)
      if (isolated) {
        pending = []
        failedBefore = false
        self.postMessage({ id: msg.id, ok: true, written: isolated.written, rejected: isolated.rejected } satisfies WriterReply)
        return
      }
    }
    failedBefore = true
    self.postMessage({ id: msg.id, ok: false, error: (err as Error).message } satisfies WriterReply)
  }
}

/**
 * Writes rows one at a time after a batch failed twice, so one row the database refuses
 * (a poison row) cannot hold every later row back. When no row at all goes in, the database
 * itself is the problem: nothing is dropped and the batch stays queued.
 */
async function isolate(batches: WriteBatch[]): Promise<{ written: number; rejected: { rows: number; error: string } } | undefined> {
  let written = 0
  let rejected = 0
  let error = ''
  for (const b of batches) {
    for (const row of b.rows) {
      try {
        await sink!.write([{ ...b, rows: [row] }])
        written++
      } catch (e) {
        rejected++
        error = (e as Error).message
      }
    }
  }
  return written > 0 ? { written, rejected: { rows: rejected, error } } : undefined
}
