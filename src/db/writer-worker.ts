/**
 * The batch writer's thread. It owns its own libSQL connection, so the statements (which
 * libSQL runs synchronously for local files) never block the request-serving event loop.
 * Messages: `open` once, then `write` batches; every `write` is answered after its rows
 * are durable, or with the error (the rows are kept and retried with the next write).
 */
import { createClient, type Client, type InStatement } from '@libsql/client'

declare const self: Worker

export interface WriteBatch {
  /** e.g. `INSERT OR IGNORE INTO request_log (a, b)`; the VALUES part is added per batch. */
  head: string
  width: number
  rows: unknown[][]
}

export type WriterMessage =
  | { kind: 'open'; url: string; authToken?: string }
  | { kind: 'write'; id: number; batches: WriteBatch[] }
  | { kind: 'close'; id: number }

export type WriterReply = { id: number; ok: true; written: number } | { id: number; ok: false; error: string }

/** SQLite accepts up to 32766 bound values per statement; stay well below. */
const MAX_VALUES = 8000

let client: Client | undefined
let pending: WriteBatch[] = []

function statements(batches: WriteBatch[]): InStatement[] {
  const out: InStatement[] = []
  for (const b of batches) {
    const per = Math.max(1, Math.floor(MAX_VALUES / b.width))
    const tuple = `(${Array(b.width).fill('?').join(',')})`
    for (let i = 0; i < b.rows.length; i += per) {
      const slice = b.rows.slice(i, i + per)
      out.push({ sql: `${b.head} VALUES ${Array(slice.length).fill(tuple).join(',')}`, args: slice.flat() as never[] })
    }
  }
  return out
}

self.onmessage = async (e: MessageEvent<WriterMessage>) => {
  const msg = e.data
  if (msg.kind === 'open') {
    client = createClient({ url: msg.url, authToken: msg.authToken })
    if (msg.url.startsWith('file:')) await client.execute('PRAGMA busy_timeout=5000')
    return
  }
  if (msg.kind === 'close') {
    client?.close()
    self.postMessage({ id: msg.id, ok: true, written: 0 } satisfies WriterReply)
    return
  }
  pending = pending.concat(msg.batches)
  const todo = pending
  const rows = todo.reduce((n, b) => n + b.rows.length, 0)
  try {
    const stmts = statements(todo)
    if (stmts.length) await client!.batch(stmts, 'write')
    pending = []
    self.postMessage({ id: msg.id, ok: true, written: rows } satisfies WriterReply)
  } catch (err) {
    self.postMessage({ id: msg.id, ok: false, error: (err as Error).message } satisfies WriterReply)
  }
}
