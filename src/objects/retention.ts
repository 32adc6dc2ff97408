/**
 * Ownership rows outlive nothing: once the provider has dropped an object (its `expires_at`),
 * its row goes too, at start and then hourly, in small batches (no long write lock against the
 * batched writer). A day's grace covers clocks that disagree with the provider's.
 */
import { and, inArray, isNotNull, lt } from 'drizzle-orm'
import type { Db } from '../db/client'
import { providerObjects } from '../db/schema-objects'

const EVERY_MS = 3_600_000
export const GRACE_MS = 86_400_000
const BATCH = 5_000

export class ObjectRetention {
  private timer: ReturnType<typeof setInterval> | undefined
  private running: Promise<number> | undefined
  private stopped = false

  constructor(
    private readonly db: Db,
    private readonly clock: () => number = Date.now,
    private readonly log: (line: string) => void = console.log,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.pruneInBackground(), EVERY_MS)
    this.timer.unref?.()
    this.pruneInBackground()
  }

  private pruneInBackground(): void {
    void this.prune().catch((e) => this.log(`objects: pruning failed: ${(e as Error).message}`))
  }

  /** Deletes the rows of objects expired more than a day ago; resolves with how many went. One run at a time. */
  prune(): Promise<number> {
    return (this.running ??= this.run().finally(() => (this.running = undefined)))
  }

  private async run(): Promise<number> {
    const t = providerObjects
    const cutoff = this.clock() - GRACE_MS
    let total = 0
    while (!this.stopped) {
      // A batch of expired ids, then those rows (still expired: a refreshed expiry keeps its row).
      const old = await this.db
        .select({ provider: t.provider, kind: t.kind, id: t.objectId })
        .from(t)
        .where(and(isNotNull(t.expiresAt), lt(t.expiresAt, cutoff)))
        .limit(BATCH)
      if (!old.length) break
      const ids = [...new Set(old.map((r) => r.id))]
      const gone = await this.db
        .delete(t)
        .where(and(isNotNull(t.expiresAt), lt(t.expiresAt, cutoff), inArray(t.objectId, ids)))
        .returning({ id: t.objectId })
      total += gone.length
      if (old.length < BATCH) break
    }
    if (total) this.log(`objects: forgot ${total} expired object(s)`)
    return total
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.running?.catch(() => {})
  }
}
