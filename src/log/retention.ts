/**
 * `[log] retention_days`: request-log rows older than that are deleted, in small batches (no
 * long write lock against the batched writer), at start and then hourly. The request log is
 * observability; the spend ledger, which limits and credits are counted from, is never pruned.
 */
import { inArray, lt } from 'drizzle-orm'
import type { Db } from '../db/client'
import { requestLog } from '../db/schema'

const DAY_MS = 86_400_000
const EVERY_MS = 3_600_000
/** Rows per DELETE: each holds the write lock for a few milliseconds at most. */
const BATCH = 5_000

export class RequestLogRetention {
  private timer: ReturnType<typeof setInterval> | undefined
  private running: Promise<number> | undefined
  private stopped = false

  constructor(
    private readonly db: Db,
    private days: number,
    private readonly clock: () => number = Date.now,
    private readonly log: (line: string) => void = console.log,
  ) {}

  /** Prunes now (when a retention is set) and every hour after. */
  start(): void {
    this.timer ??= setInterval(() => this.pruneInBackground(), EVERY_MS)
    this.timer.unref?.()
    this.pruneInBackground()
  }

  /** A reloaded config's retention; a shorter one prunes at once. */
  configure(days: number): void {
    const shorter = days > 0 && (this.days === 0 || days < this.days)
    this.days = days
    if (shorter && this.timer) this.pruneInBackground()
  }

  private pruneInBackground(): void {
    void this.prune().catch((e) => this.log(`request log: pruning failed: ${(e as Error).message}`))
  }

  /** Deletes every row older than the retention; resolves with how many went. One run at a time. */
  prune(): Promise<number> {
    return (this.running ??= this.run().finally(() => (this.running = undefined)))
  }

  private async run(): Promise<number> {
    if (this.days <= 0) return 0
    const cutoff = this.clock() - this.days * DAY_MS
    let total = 0
    // A stop (shutdown) ends a long backlog between batches; the next start carries on.
    while (!this.stopped) {
      const old = this.db.select({ id: requestLog.id }).from(requestLog).where(lt(requestLog.ts, cutoff)).limit(BATCH)
      const gone = await this.db.delete(requestLog).where(inArray(requestLog.id, old)).returning({ id: requestLog.id })
      total += gone.length
      if (gone.length < BATCH) break
    }
    if (total) this.log(`request log: deleted ${total} row(s) older than ${this.days} day(s) ([log] retention_days)`)
    return total
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.running?.catch(() => {})
  }
}
