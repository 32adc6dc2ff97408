/**
 * A drizzle database on a local libSQL file whose statements run on a thread of their own
 * (src/db/query-worker.ts), through drizzle's sqlite-proxy driver. The binding runs every
 * statement synchronously: on the main thread a long one (an admin aggregate over the request
 * log, a refresh over many keys) would block the event loop, and every proxied request with
 * it, until it finished. It is the same `Db` to callers: query builders, `batch` (one
 * transaction), `returning`, and `run`/`all`/`get`/`values` with raw SQL (rows as objects).
 */
import type { SQLWrapper } from 'drizzle-orm'
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core'
import { drizzle } from 'drizzle-orm/sqlite-proxy'
import type { Db, Method, Query, QueryMessage, QueryReply } from './types'
import * as schema from './schema'
import { workerUrl } from './worker-url'

export interface OffThreadDb {
  db: Db
  close(): Promise<void>
}

/** An error from the worker, with SQLite's code (SQLITE_BUSY, SQLITE_CONSTRAINT_…) as the binding gives it. */
export class SqliteError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message)
    this.name = 'SqliteError'
  }
}

export function offThreadDb(path: string): OffThreadDb {
  const worker = new Worker(workerUrl('query-worker.ts'))
  const waiting = new Map<number, (r: QueryReply) => void>()
  let nextId = 1
  worker.onmessage = (e: MessageEvent<QueryReply>) => {
    const done = waiting.get(e.data.id)
    waiting.delete(e.data.id)
    // An idle worker must not keep the process alive.
    if (!waiting.size) worker.unref?.()
    done?.(e.data)
  }
  let failed: string | undefined
  worker.onerror = (e) => {
    // Nothing answers any more: every waiting query fails now (and every later one at once), none hangs.
    failed = 'the database query thread stopped'
    console.error(`${failed}: ${e.message}`)
    for (const done of waiting.values()) done({ id: 0, ok: false, message: failed })
    waiting.clear()
    worker.unref?.()
  }
  worker.postMessage({ kind: 'open', path } satisfies QueryMessage)
  worker.unref?.()

  function call<T>(msg: Extract<QueryMessage, { id: number }>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (failed) return reject(new SqliteError(failed))
      waiting.set(msg.id, (r) => (r.ok ? resolve(r.result as T) : reject(new SqliteError(r.message, r.code))))
      worker.ref?.()
      worker.postMessage(msg)
    })
  }

  const db = drizzle(
    (sql, params, method) => call<{ rows: unknown[] }>({ kind: 'query', id: nextId++, query: { sql, params, method } }),
    (queries: Query[]) => call<{ rows: unknown[] }[]>({ kind: 'batch', id: nextId++, queries }),
    { schema },
  )
  // Raw SQL answers as the libSQL driver does (rows as objects), which the sqlite-proxy
  // driver's own `all`/`get` (arrays, for its builders) would not.
  const dialect = new SQLiteAsyncDialect()
  const raw = (method: Method) => (q: SQLWrapper | string) => {
    const { sql, params } = typeof q === 'string' ? { sql: q, params: [] } : dialect.sqlToQuery(q.getSQL())
    return call({ kind: 'raw', id: nextId++, query: { sql, params, method } })
  }
  Object.assign(db, { run: raw('run'), all: raw('all'), get: raw('get'), values: raw('values') })
  let closing: Promise<void> | undefined
  return {
    // The same query builders and results as the libSQL driver's (what callers are typed against).
    db: db as unknown as Db,
    close: () =>
      (closing ??= call({ kind: 'close', id: nextId++ }).then(
        () => worker.terminate(),
        () => worker.terminate(),
      )),
  }
}
