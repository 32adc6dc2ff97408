/**
 * The batch writer's sink for a local libSQL file, on the `libsql` binding itself (the one
 * @libsql/client wraps for `file:` URLs). One prepared single-row statement per table, run
 * once per row inside one transaction, costs about half the CPU of the client's multi-row
 * `VALUES (…),(…)` batches, whose thousands-of-placeholders text is parsed again on every write.
 */
import Database from 'libsql'
import type { Sink, WriteBatch } from './writer-worker'

type Statement = ReturnType<Database.Database['prepare']>

/**
 * The file a `file:` URL names, read as @libsql/client reads it (`file:rel/x.db`,
 * `file:/abs/x.db`, `file:///abs/x.db`, `file://localhost/abs/x.db`, percent-decoded).
 * Undefined for in-memory databases and URLs the client would refuse: those stay on the client.
 */
export function localFilePath(url: string): string | undefined {
  const m = /^file:(?:\/\/([^/?#]*))?([^?#]*)/i.exec(url)
  if (!m || (m[1] && m[1].toLowerCase() !== 'localhost')) return undefined
  try {
    const path = decodeURIComponent(m[2]!)
    return path && !path.startsWith(':memory:') ? path : undefined
  } catch {
    return undefined
  }
}

export function libsqlFileSink(path: string): Sink {
  // `timeout` is the busy timeout, in milliseconds (as @libsql/client passes it).
  const db = new Database(path, { timeout: 5000 })
  const prepared = new Map<string, Statement>()

  function statementFor(b: WriteBatch): Statement {
    const key = `${b.verb} ${b.table} (${b.columns.join(', ')})`
    let st = prepared.get(key)
    if (!st) prepared.set(key, (st = db.prepare(`${key} VALUES (${b.columns.map(() => '?').join(',')})`)))
    return st
  }

  return {
    async write(batches) {
      db.exec('BEGIN IMMEDIATE')
      try {
        for (const b of batches) {
          const st = statementFor(b)
          const width = b.columns.length
          for (const row of b.rows) st.run(bindable(row, width))
        }
        db.exec('COMMIT')
      } catch (e) {
        // Some errors (SQLITE_FULL, IOERR) have already rolled the transaction back.
        if (db.inTransaction) db.exec('ROLLBACK')
        const code = (e as { code?: unknown }).code
        throw typeof code === 'string' && e instanceof Error ? new Error(`${code}: ${e.message}`) : e
      }
    },
    async close() {
      if (db.open) db.close()
    },
  }
}

/**
 * The row with every value in a form the binding accepts, converted in place (the row is
 * this thread's own copy) the way @libsql/client converts arguments. Without it a boolean
 * aborts the whole process (a panic in the native addon), and undefined or NaN would be
 * stored silently as NULL; here they refuse the row instead.
 */
function bindable(row: unknown[], width: number): unknown[] {
  if (row.length !== width) throw new RangeError(`a row of ${row.length} values for ${width} columns`)
  for (let i = 0; i < width; i++) {
    const v = row[i]
    if (v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) continue
    row[i] = toSql(v)
  }
  return row
}

const MIN_INT64 = -(2n ** 63n)
const MAX_INT64 = 2n ** 63n - 1n

function toSql(v: unknown): unknown {
  switch (typeof v) {
    case 'boolean':
      return v ? 1 : 0
    case 'number':
      throw new RangeError('only finite numbers (not Infinity or NaN) can be stored')
    case 'bigint':
      if (v < MIN_INT64 || v > MAX_INT64) throw new RangeError('a bigint beyond 64 bits cannot be stored')
      return v
    case 'undefined':
      throw new TypeError('undefined cannot be stored')
  }
  if (v instanceof ArrayBuffer) return new Uint8Array(v)
  if (v instanceof Date) return v.valueOf()
  // Anything else goes to the binding as it is: it takes byte arrays and refuses the rest with an error.
  return v
}
