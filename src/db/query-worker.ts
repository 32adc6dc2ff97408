/**
 * A thread that answers drizzle's queries on a local libSQL file (src/db/off-thread.ts). The
 * binding runs statements synchronously, so an admin aggregate over a big request log run on
 * the main thread would stall every proxied request for its whole duration; here it stalls
 * nobody.
 */
import Database from 'libsql'
import { bindableParams } from './libsql-file-sink'
import type { Query, QueryMessage, QueryReply } from './types'

declare const self: Worker

type Statement = ReturnType<Database.Database['prepare']>

/** Prepared statements by SQL text: the gateway's queries come in a few dozen shapes. */
const CACHE_LIMIT = 500

let db: Database.Database | undefined
let openError: string | undefined
const statements = new Map<string, Statement>()

function prepared(sql: string): Statement {
  let st = statements.get(sql)
  if (!st) {
    if (statements.size >= CACHE_LIMIT) statements.clear()
    statements.set(sql, (st = db!.prepare(sql)))
  }
  return st
}

/**
 * Runs one statement. Builder queries (`objects` false) answer `{ rows }` with rows as arrays,
 * which drizzle maps to its fields (for `get`, the one row or undefined); raw SQL answers rows
 * as objects by column name, and `run` its change count, as the libSQL driver does.
 */
function execute(q: Query, objects: boolean): unknown {
  const st = prepared(q.sql)
  const params = bindableParams(q.params)
  if (q.method === 'run' || !st.reader) {
    const info = st.run(params) as { changes: number; lastInsertRowid: number | bigint }
    return { rows: [], rowsAffected: info.changes, lastInsertRowid: Number(info.lastInsertRowid) }
  }
  st.raw(!objects || q.method === 'values')
  const rows = q.method === 'get' ? st.get(params) : st.all(params)
  return objects ? rows : { rows }
}

function batch(queries: Query[]): unknown[] {
  // IMMEDIATE: the write lock is taken (waiting out the busy timeout) before the first statement.
  db!.exec('BEGIN IMMEDIATE')
  try {
    const out = queries.map((q) => execute(q, false))
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
    try {
      // `timeout` is the busy timeout in milliseconds: a write waits while the batch writer holds the lock.
      db = new Database(msg.path, { timeout: 5000 })
    } catch (err) {
      // Every query then fails with the reason (the gateway's own start-up opened the file first, so this is rare).
      openError = `cannot open ${msg.path}: ${(err as Error).message}`
    }
    return
  }
  let reply: QueryReply
  try {
    if (openError && msg.kind !== 'close') throw new Error(openError)
    if (msg.kind === 'close') {
      if (db?.open) db.close()
      reply = { id: msg.id, ok: true, result: null }
    } else {
      const result = msg.kind === 'batch' ? batch(msg.queries) : execute(msg.query, msg.kind === 'raw')
      reply = { id: msg.id, ok: true, result }
    }
  } catch (err) {
    const code = (err as { code?: unknown }).code
    reply = { id: msg.id, ok: false, message: (err as Error).message, code: typeof code === 'string' ? code : undefined }
  }
  self.postMessage(reply)
}
