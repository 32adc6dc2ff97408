/**
 * A thread that answers drizzle's queries on a local libSQL file (src/db/off-thread.ts). The
 * binding runs statements synchronously, so an admin aggregate over a big request log run on
 * the main thread would stall every proxied request for its whole duration; here it stalls
 * nobody. Rows go back as arrays, the form drizzle's sqlite-proxy driver maps to its fields.
 */
import Database from 'libsql'
import { bindableParams } from './libsql-file-sink'

declare const self: Worker

export type Method = 'run' | 'all' | 'values' | 'get'

export interface Query {
  sql: string
  params: unknown[]
  method: Method
}

export type QueryMessage =
  | { kind: 'open'; path: string }
  /** A builder's query: rows as arrays, which drizzle maps to its fields. */
  | { kind: 'query'; id: number; query: Query }
  /** Raw SQL (`db.all(sql)`…): rows as objects by column name, as the libSQL driver gives them. */
  | { kind: 'raw'; id: number; query: Query }
  /** One transaction: every statement or none. */
  | { kind: 'batch'; id: number; queries: Query[] }
  | { kind: 'close'; id: number }

export type QueryReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; message: string; code?: string }

type Statement = ReturnType<Database.Database['prepare']>

/** Prepared statements by SQL text; the admin's queries are a few dozen shapes. */
const CACHE_LIMIT = 500

let db: Database.Database | undefined
const statements = new Map<string, Statement>()

function prepared(sql: string): Statement {
  let st = statements.get(sql)
  if (!st) {
    if (statements.size >= CACHE_LIMIT) statements.clear()
    statements.set(sql, (st = db!.prepare(sql)))
  }
  return st
}

/** `rows`: arrays of column values; for `get`, the one row's array, or undefined. */
type Result = { rows: unknown[] | undefined }

function run(q: Query): Result {
  const st = prepared(q.sql)
  const params = bindableParams(q.params)
  if (q.method === 'run' || !st.reader) {
    st.run(params)
    return { rows: [] }
  }
  st.raw(true)
  return { rows: (q.method === 'get' ? st.get(params) : st.all(params)) as unknown[] | undefined }
}

function raw(q: Query): unknown {
  const st = prepared(q.sql)
  const params = bindableParams(q.params)
  if (q.method === 'run' || !st.reader) {
    const info = st.run(params) as { changes: number; lastInsertRowid: number | bigint }
    return { rows: [], rowsAffected: info.changes, lastInsertRowid: Number(info.lastInsertRowid) }
  }
  st.raw(q.method === 'values')
  return q.method === 'get' ? st.get(params) : st.all(params)
}

function batch(queries: Query[]): Result[] {
  // IMMEDIATE: the write lock is taken (waiting out the busy timeout) before the first statement.
  db!.exec('BEGIN IMMEDIATE')
  try {
    const out = queries.map(run)
    db!.exec('COMMIT')
    return out
  } catch (e) {
    if (db!.inTransaction) db!.exec('ROLLBACK')
    throw e
  }
}

self.onmessage = (e: MessageEvent<QueryMessage>) => {
  const msg = e.data
  if (msg.kind === 'open') {
    // `timeout` is the busy timeout in milliseconds: a write waits while the batch writer holds the lock.
    db = new Database(msg.path, { timeout: 5000 })
    return
  }
  let reply: QueryReply
  try {
    if (msg.kind === 'close') {
      if (db?.open) db.close()
      reply = { id: msg.id, ok: true, result: null }
    } else {
      const result = msg.kind === 'query' ? run(msg.query) : msg.kind === 'raw' ? raw(msg.query) : batch(msg.queries)
      reply = { id: msg.id, ok: true, result }
    }
  } catch (err) {
    const code = (err as { code?: unknown }).code
    reply = { id: msg.id, ok: false, message: (err as Error).message, code: typeof code === 'string' ? code : undefined }
  }
  self.postMessage(reply)
}
