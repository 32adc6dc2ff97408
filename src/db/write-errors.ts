/**
 * What a failed batch write says about the database (the batch writer's thread decides by it,
 * src/db/writer-worker.ts):
 * - `row`: one row is at fault (a constraint, a value of the wrong type or size). Writing the rows
 *   one group at a time finds it; only that row is dropped.
 * - `unavailable`: the database cannot be reached or is not taking writes now (connection
 *   refused, reset or timed out, server shutting down or starting up, the file locked). Nothing
 *   is dropped: the rows stay queued, in order, and are written when it is back.
 * - `other`: anything else (a missing table, a full disk, a bug). Treated as `unavailable`: a
 *   database that refuses every row is no reason to drop any.
 * The code is looked for on the error and on its `cause` chain (drivers wrap each other's errors).
 */
export type WriteErrorKind = 'row' | 'unavailable' | 'other'

/** Node/Bun socket and DNS errors, postgres.js and @libsql/client connection codes, our own write timeout. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ConnectionRefused',
  'ConnectionClosed',
  'FailedToOpenSocket',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'HRANA_WEBSOCKET_ERROR',
  'HRANA_CLOSED_ERROR',
  'SERVER_ERROR',
  'WRITE_TIMEOUT',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_BUSY_SNAPSHOT',
  'SQLITE_BUSY_RECOVERY',
  'SQLITE_BUSY_TIMEOUT',
  'SQLITE_LOCKED_SHAREDCACHE',
])

/**
 * PostgreSQL SQLSTATEs: 08 connection exception, 57P01–57P05 (admin/crash shutdown, cannot
 * connect now, idle session timeout), 53300 too many connections, 40001/40P01 (serialization
 * failure, deadlock: retrying is the remedy).
 */
const PG_UNAVAILABLE = /^(08...|57P0[1-5]|53300|40001|40P01)$/

/** PostgreSQL 22 data exception, 23 integrity constraint violation, 54000 program limit (a row too big). */
const PG_ROW = /^(22...|23...|54000)$/

/** SQLite result codes (base or extended) that concern the row being written. */
const SQLITE_ROW = /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)(_|$)/

/** Messages without a code that concern one row: the libsql binding's and postgres.js's value checks, ours (libsql-file-sink.ts bindable). */
const ROW_MESSAGES = /can only bind|Undefined values are not allowed|can(not)? be stored|a row of \d+ values for \d+ columns|datatype mismatch|constraint failed/i

/** Messages of connection failures that come without a code (pool errors, a socket closed under a query). */
const UNAVAILABLE_MESSAGES = /connection terminated|connection (was )?(closed|ended|reset)|socket (hang up|closed)|unable to connect|database is locked|database table is locked|the database system is (starting up|shutting down|in recovery mode)|terminating connection|timeout exceeded when trying to connect|pool is (closed|ended|draining)/i

function codesOf(e: unknown): string[] {
  const out: string[] = []
  for (let x = e, depth = 0; x && typeof x === 'object' && depth < 5; x = (x as { cause?: unknown }).cause, depth++) {
    for (const k of ['code', 'extendedCode', 'errno'] as const) {
      const v = (x as Record<string, unknown>)[k]
      if (typeof v === 'string' && v) out.push(v)
    }
  }
  return out
}

function messagesOf(e: unknown): string {
  const parts: string[] = []
  for (let x = e, depth = 0; x && depth < 5; x = (x as { cause?: unknown }).cause, depth++) parts.push(x instanceof Error ? x.message : String(x))
  return parts.join(' / ')
}

export function classifyWriteError(e: unknown): WriteErrorKind {
  const codes = codesOf(e)
  // A row's fault wins over a wrapper's generic code (LibsqlBatchError carries SQLITE_CONSTRAINT and the extended code).
  if (codes.some((c) => SQLITE_ROW.test(c) || PG_ROW.test(c) || c === 'UNDEFINED_VALUE')) return 'row'
  if (codes.some((c) => UNAVAILABLE_CODES.has(c) || PG_UNAVAILABLE.test(c))) return 'unavailable'
  const text = messagesOf(e)
  if (UNAVAILABLE_MESSAGES.test(text)) return 'unavailable'
  if (ROW_MESSAGES.test(text)) return 'row'
  return 'other'
}

/** The error as one line for the log: its code (when the message lacks it) and message. */
export function describeWriteError(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e)
  const code = codesOf(e)[0]
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg
}
