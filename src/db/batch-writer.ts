/**
 * Batched, off-thread database writes for the request path (request log, ledger).
 * Callers queue rows synchronously; a timer ships them to a worker thread that writes
 * them in one transaction. Nothing on the request path waits for the database.
 */
import type { WriteBatch, WriterMessage, WriterReply } from './writer-worker'
import { workerUrl } from './worker-url'

/** Past this many queued rows (a database down for long), the oldest are dropped and counted. */
const MAX_QUEUE = 200_000

export interface TableSpec {
  /**
   * `INSERT INTO`, `INSERT OR IGNORE INTO` (a row whose key exists is skipped) or
   * `INSERT OR REPLACE INTO` (the latest row for a key wins). On PostgreSQL the worker
   * writes them as `ON CONFLICT DO NOTHING` and `ON CONFLICT (key) DO UPDATE` (src/db/pg/batch-sql.ts).
   */
  verb: string
  table: string
  columns: readonly string[]
  /** The key a replacing insert conflicts on (PostgreSQL needs it named); default: the first column. */
  conflict?: readonly string[]
}

/**
 * The batches as JSON text when every value is a JSON scalar, else as they are. One string
 * crosses to the worker for about half the main-thread CPU of structured-cloning thousands of
 * small row arrays (measured: 0.7 against 1.3 µs a row); the worker parses it. A bigint, bytes
 * or a Date go by structured clone, which keeps their type.
 */
function encode(batches: WriteBatch[]): WriteBatch[] | string {
  for (const b of batches) {
    for (const row of b.rows) {
      for (const v of row) {
        if (v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) continue
        return batches
      }
    }
  }
  return JSON.stringify(batches)
}

export class BatchWriter {
  private queues = new Map<TableSpec, unknown[][]>()
  private queued = 0
  private worker: Worker
  private nextId = 1
  private waiting = new Map<number, (r: WriterReply) => void>()
  private timer: ReturnType<typeof setInterval> | undefined
  private inFlight: Promise<void> | undefined
  /** The last write failed; its rows are kept in the worker for the next one. */
  private unwritten = false
  written = 0
  dropped = 0
  failures = 0

  constructor(url: string, authToken?: string, intervalMs = 500) {
    this.worker = new Worker(workerUrl('writer-worker.ts'))
    this.worker.onmessage = (e: MessageEvent<WriterReply>) => {
      const done = this.waiting.get(e.data.id)
      this.waiting.delete(e.data.id)
      done?.(e.data)
    }
    this.worker.onerror = (e) => console.error(`database writer: worker failed: ${e.message}`)
    this.post({ kind: 'open', url, authToken })
    this.timer = setInterval(() => void this.flush(), intervalMs)
    this.timer.unref?.()
    // An idle writer must not keep the process alive.
    this.worker.unref?.()
  }

  insert(spec: TableSpec, row: unknown[]): void {
    let q = this.queues.get(spec)
    if (!q) this.queues.set(spec, (q = []))
    q.push(row)
    if (++this.queued > MAX_QUEUE) this.dropOldest()
  }

  /** Ships everything queued so far and resolves once it is durable (or failed and kept for retry). */
  flush(): Promise<void> {
    const run = async () => {
      await this.inFlight
      // Rows of a failed write wait in the worker: a flush with nothing new still retries them.
      if (!this.queued && !this.unwritten) return
      const batches: WriteBatch[] = []
      for (const [spec, rows] of this.queues) {
        if (rows.length) batches.push({ verb: spec.verb, table: spec.table, columns: spec.columns, conflict: spec.conflict, rows })
      }
      this.queues = new Map()
      this.queued = 0
      const reply = await this.call({ kind: 'write', id: 0, batches: encode(batches) })
      this.unwritten = !reply.ok
      if (reply.ok) {
        this.written += reply.written
        if (reply.rejected?.rows) {
          this.dropped += reply.rejected.rows
          console.error(`database writer: ${reply.rejected.rows} row(s) refused by the database and dropped (${reply.rejected.error})`)
        }
      }
      else {
        this.failures++
        console.error(`database writer: batch failed (${reply.error}); it will be retried`)
      }
    }
    const p = run()
    this.inFlight = p.catch(() => {})
    return p
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    await this.flush()
    await this.call({ kind: 'close', id: 0 })
    this.worker.terminate()
  }

  private call(msg: Extract<WriterMessage, { id: number }>): Promise<WriterReply> {
    const id = this.nextId++
    return new Promise((resolve) => {
      this.waiting.set(id, resolve)
      this.worker.ref?.()
      this.post({ ...msg, id })
    }).finally(() => {
      if (!this.waiting.size) this.worker.unref?.()
    }) as Promise<WriterReply>
  }

  private post(msg: WriterMessage): void {
    this.worker.postMessage(msg)
  }

  private dropOldest(): void {
    for (const rows of this.queues.values()) {
      if (rows.length) {
        rows.shift()
        this.queued--
        this.dropped++
        return
      }
    }
  }
}
