/**
 * Batched, off-thread database writes for the request path (request log, ledger).
 * Callers queue rows synchronously; a timer ships them to a worker thread that writes
 * them in one transaction. Nothing on the request path waits for the database.
 *
 * While the database cannot take writes (down, restarting, locked), no row is dropped: every
 * row waits, in order (here until shipped, then in the worker), and the writer retries with
 * backoff (0.1 s doubling to 1 s) until the database is back. The wait is bounded: once the
 * backlog reaches `[database] outage_queue_rows` or `outage_queue_bytes`, `full` is true and
 * the proxy refuses new requests with a native 503 (src/proxy/admission.ts), so nothing is
 * served that cannot be recorded. Requests already admitted still queue their rows; rows of
 * requests that were refused before reaching a provider (`sheddable`) are not kept while full.
 * Only a row the database refuses for itself (src/db/write-errors.ts) is dropped, logged in
 * full and counted.
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { Backlog, DroppedRow, WriteBatch, WriterMessage, WriterReply } from './types'
import { workerUrl } from './worker-url'

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

export interface BatchWriterOptions {
  /** Backlog bound in rows (`[database] outage_queue_rows`). */
  maxRows?: number
  /** Backlog bound in bytes, rows as JSON (`[database] outage_queue_bytes`). */
  maxBytes?: number
  /** How long close() keeps retrying rows the database cannot take yet (default 10 s). */
  closeRetryMs?: number
}

const BACKOFF_FIRST_MS = 100
const BACKOFF_MAX_MS = 1000
/** Bytes a queued row is counted at before its first trip to the worker measures the real average. */
const ROW_BYTES_GUESS = 300

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

/** A dropped row as one object of column → value (bigints as digits), for the log line. */
function rowText(d: DroppedRow): string {
  const o: Record<string, unknown> = {}
  d.columns.forEach((c, i) => (o[c.replace(/^"|"$/g, '')] = d.row[i]))
  return JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? v.toString() : v === undefined ? null : v))
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
  /** What the worker holds (its last answer, plus what was shipped since). */
  private held: Backlog = { rows: 0, bytes: 0 }
  private rowBytes = ROW_BYTES_GUESS
  /** Failed writes in a row, and when the next may be tried (timer-driven flushes wait for it). */
  private streak = 0
  private retryAt = 0
  private fullSince: number | undefined
  private closing: Promise<void> | undefined
  private readonly maxRows: number
  private readonly maxBytes: number
  private readonly closeRetryMs: number
  private redact: (s: string) => string = (s) => s
  private droppedCounter: Counter | undefined
  private failureCounter: Counter | undefined
  written = 0
  /** Rows refused by the database (each logged) plus rows of refused requests not kept while full. */
  dropped = 0
  /** Of `dropped`: rows of refused requests not kept while the queue was full. */
  shed = 0
  failures = 0
  /** The last failure's kind and message, while failing (undefined once a write succeeds). */
  lastError: { kind: string; error: string } | undefined

  constructor(url: string, authToken?: string, intervalMs = 500, opts: BatchWriterOptions = {}) {
    this.maxRows = opts.maxRows ?? 200_000
    this.maxBytes = opts.maxBytes ?? 128 * 1024 * 1024
    this.closeRetryMs = opts.closeRetryMs ?? 10_000
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

  /** Rows not yet durable: queued here, in flight, or held by the worker. */
  get backlog(): Backlog {
    return { rows: this.queued + this.held.rows, bytes: this.queued * this.rowBytes + this.held.bytes }
  }

  /** The backlog has reached its bound: new requests must wait until the database takes rows again. */
  get full(): boolean {
    const b = this.backlog
    const full = b.rows >= this.maxRows || b.bytes >= this.maxBytes
    if (full && this.fullSince === undefined) {
      this.fullSince = Date.now()
      console.error(
        `database writer: ${b.rows} row(s) (${Math.round(b.bytes / 1024)} KiB) wait for the database` +
          ` (${this.lastError?.error ?? 'writes are slow'}); new requests get 503 until it takes them ([database] outage_queue_rows / outage_queue_bytes)`,
      )
    } else if (!full && this.fullSince !== undefined) {
      console.error(`database writer: the write queue is below its bound again after ${((Date.now() - this.fullSince) / 1000).toFixed(1)} s; requests are admitted`)
      this.fullSince = undefined
    }
    return full
  }

  /**
   * Queues a row. `sheddable`: the row records a request that was refused before it reached a
   * provider (nothing reserved or served); while the queue is full it is not kept, only counted.
   */
  insert(spec: TableSpec, row: unknown[], sheddable = false): void {
    if (sheddable && this.fullSince !== undefined && this.full) {
      this.shed++
      this.dropped++
      this.droppedCounter?.inc({ table: spec.table, reason: 'queue_full' })
      return
    }
    let q = this.queues.get(spec)
    if (!q) this.queues.set(spec, (q = []))
    q.push(row)
    this.queued++
  }

  /**
   * Ships everything queued so far and resolves once it is durable (or failed and kept for retry).
   * After a failure, flushes before the backoff has passed keep the rows here and resolve at once;
   * `force` tries anyway (close, tests).
   */
  flush(force = false): Promise<void> {
    const run = async () => {
      await this.inFlight
      // Rows of a failed write wait in the worker: a flush with nothing new still retries them.
      if (!this.queued && !this.unwritten) return
      if (!force && this.unwritten && Date.now() < this.retryAt) return
      const batches: WriteBatch[] = []
      for (const [spec, rows] of this.queues) {
        if (rows.length) batches.push({ verb: spec.verb, table: spec.table, columns: spec.columns, conflict: spec.conflict, rows })
      }
      const shipped = this.queued
      this.queues = new Map()
      this.queued = 0
      const payload = encode(batches)
      if (typeof payload === 'string' && shipped) this.rowBytes = Math.max(16, Math.round(payload.length / shipped))
      this.held = { rows: this.held.rows + shipped, bytes: this.held.bytes + shipped * this.rowBytes }
      const reply = await this.call({ kind: 'write', id: 0, batches: payload })
      this.held = reply.backlog ?? { rows: 0, bytes: 0 }
      this.unwritten = !reply.ok
      this.written += reply.written
      if (reply.dropped?.length) this.logDropped(reply.dropped)
      if (reply.ok) {
        if (this.streak) console.error(`database writer: the database takes writes again after ${this.streak} failed attempt(s); the queued rows are written`)
        this.streak = 0
        this.lastError = undefined
      } else {
        this.failures++
        this.failureCounter?.inc({ kind: reply.kind })
        this.lastError = { kind: reply.kind, error: reply.error }
        // One line when the trouble starts, then one every 32 attempts (about a minute at the longest backoff).
        if (this.streak % 32 === 0) console.error(`database writer: batch failed (${reply.error}); ${reply.backlog.rows} row(s) kept, retrying with backoff`)
        this.retryAt = Date.now() + Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(this.streak, 10))
        this.streak++
      }
    }
    const p = run()
    this.inFlight = p.catch(() => {})
    return p
  }

  /** Metrics of the write queue; `redact` is applied to every dropped row's log line. */
  registerMetrics(registry: Registry, redact?: (s: string) => string): void {
    if (redact) this.redact = redact
    const registers = [registry]
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({ name, help, registers, collect() {
        this.set(read())
      } })
    gauge('tollgate_db_write_queue_rows', 'Request-log and ledger rows not yet written to the database.', () => this.backlog.rows)
    gauge('tollgate_db_write_queue_bytes', 'Bytes (as JSON) of the rows not yet written to the database.', () => this.backlog.bytes)
    gauge('tollgate_db_write_queue_max_rows', '[database] outage_queue_rows: at it new requests get 503.', () => this.maxRows)
    gauge('tollgate_db_write_queue_max_bytes', '[database] outage_queue_bytes: at it new requests get 503.', () => this.maxBytes)
    this.droppedCounter = new Counter({ name: 'tollgate_db_rows_dropped_total', help: 'Rows not written: refused by the database (logged in full), or of refused requests while the queue was full.', labelNames: ['table', 'reason'], registers })
    this.failureCounter = new Counter({ name: 'tollgate_db_write_failures_total', help: 'Failed batch writes by kind: unavailable (connection, timeout, locked), row, other. Their rows are kept.', labelNames: ['kind'], registers })
  }

  /** Writes what is left (waiting up to `closeRetryMs` for a database that is away) and stops the thread; a second call waits for the first. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown())
  }

  private async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    await this.flush(true)
    // A database that is away at shutdown gets a little while to come back before the rows are lost.
    const until = Date.now() + this.closeRetryMs
    while (this.unwritten && Date.now() < until) {
      await Bun.sleep(Math.max(0, Math.min(this.retryAt, until) - Date.now()))
      await this.flush(true)
    }
    const left = await this.call({ kind: 'close', id: 0 })
    if (this.unwritten) console.error(`database writer: ${left.backlog.rows} row(s) could not be written before exit (${this.lastError?.error}); they are lost`)
    this.worker.terminate()
  }

  private logDropped(rows: DroppedRow[]): void {
    this.dropped += rows.length
    for (const d of rows) {
      this.droppedCounter?.inc({ table: d.table, reason: 'refused' })
      console.error(this.redact(`database writer: dropped a row of ${d.table} that the database refused (${d.error}): ${rowText(d)}`))
    }
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
}
