/**
 * Types shared by the database modules and their worker threads: the drizzle handle, the batch
 * writer's messages and sinks, and the query thread's messages. They live here, not in the
 * worker entry files, so importing a type never imports a worker (or closes an import cycle).
 */
import type { LibSQLDatabase } from 'drizzle-orm/libsql'
import type * as schema from './schema'
import type { WriteErrorKind } from './write-errors'

export type Db = LibSQLDatabase<typeof schema>

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

/** A row the database refused for itself (a constraint, a value it cannot take): dropped, and logged in full by the main thread. */
export interface DroppedRow {
  table: string
  columns: readonly string[]
  row: unknown[]
  error: string
}

/** What this thread still holds, not yet written: rows, and bytes as encoded for the trip here. */
export interface Backlog {
  rows: number
  bytes: number
}

export type WriterReply =
  | { id: number; ok: true; written: number; rejected?: { rows: number; error: string }; dropped?: DroppedRow[]; backlog: Backlog }
  | { id: number; ok: false; error: string; kind: WriteErrorKind; written: number; rejected?: { rows: number; error: string }; dropped?: DroppedRow[]; backlog: Backlog }

/** Where batches go: both engines write every batch of one message in one transaction. */
export interface Sink {
  write(batches: WriteBatch[]): Promise<void>
  close(): Promise<void>
}

// The query thread (src/db/query-worker.ts, src/db/off-thread.ts).

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
