/**
 * The request log: rows are queued in memory and written in batches on a timer, so no
 * request ever waits on a database write. `flush()` drains the queue (shutdown, tests).
 */
import type { Db } from '../db/client'
import { requestLog } from '../db/schema'
import type { RequestRecord, RequestSink } from '../proxy/record'

const BATCH = 500
/** Past this many queued rows (a database down for long), the oldest are dropped and counted. */
const MAX_QUEUE = 200_000

export class RequestLogWriter implements RequestSink {
  private queue: (typeof requestLog.$inferInsert)[] = []
  private timer: ReturnType<typeof setInterval> | undefined
  private flushing: Promise<void> | undefined
  dropped = 0
  written = 0

  constructor(
    private readonly db: Db,
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.intervalMs)
    this.timer.unref?.()
  }

  record(r: RequestRecord): void {
    const t = r.usage?.tokens
    this.queue.push({
      id: r.id,
      ts: r.ts,
      keyId: r.keyId,
      project: r.project,
      user: r.user,
      provider: r.provider,
      route: r.route,
      api: r.api,
      model: r.usage?.model ?? r.model,
      method: r.method,
      path: r.path,
      stream: r.stream,
      status: r.status,
      durationMs: Math.round(r.durationMs),
      ttfbMs: r.ttfbMs === undefined ? undefined : Math.round(r.ttfbMs),
      inputTokens: t?.input_tokens,
      outputTokens: t?.output_tokens,
      cacheReadTokens: t?.cache_read_tokens,
      cacheWriteTokens: t?.cache_write_tokens,
      usage: r.usage?.raw,
      costNanos: r.costNanos,
      error: r.error,
    })
    if (this.queue.length > MAX_QUEUE) {
      const over = this.queue.length - MAX_QUEUE
      this.queue.splice(0, over)
      this.dropped += over
    }
  }

  /** Writes everything queued so far; concurrent calls share one pass. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => (this.flushing = undefined))
    return this.flushing
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.slice(0, BATCH)
      try {
        await this.db.insert(requestLog).values(batch).onConflictDoNothing()
      } catch (e) {
        // Keep the rows for the next tick; the database may be briefly locked.
        console.error(`request log: write failed (${(e as Error).message}); will retry`)
        return
      }
      this.queue.splice(0, batch.length)
      this.written += batch.length
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    await this.flush()
  }
}
