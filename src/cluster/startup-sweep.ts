/**
 * The crash sweep of src/spend/recovery.ts, made safe for several instances on one database.
 * A `reserved` row may be a live instance's request in flight: sweeping it would charge it
 * here and again at its real settlement. So, once Redis is usable, this instance sweeps only
 * the rows nobody else answers for:
 * - rows of an instance that is alive (in the heartbeat set) are left to it;
 * - rows whose request still holds a lease, or was already swept from Redis (tombstone), are
 *   left to the lease sweepers (src/cluster/budget.ts), which settle them in Redis and SQL at once;
 * - the rest (a dead instance's, or rows written without an instance) are swept as one process would.
 * With Redis down at start nothing is swept (live instances cannot be told from dead ones);
 * what is left is swept at a later start.
 */
import type { Spend } from '../spend/service'
import { sweepOpenReservations, type OpenRow, type SweepResult } from '../spend/recovery'
import { STALE_MS, type ClusterLink } from './link'

export async function sweepAtStart(link: ClusterLink, spend: Spend, log: (line: string) => void): Promise<SweepResult> {
  if (link.state !== 'up') {
    log('spend: crash sweep skipped: Redis is not usable, so live instances cannot be told from dead ones (reservations left open are swept at a later start)')
    return { rows: 0, chargedNanos: 0 }
  }
  const keep = async (open: OpenRow[]): Promise<Set<string>> => {
    const now = Date.now() + link.clockOffset
    const live = new Set(await link.cmd.zrangebyscore(link.key('instances'), now - STALE_MS, '+inf'))
    const kept = new Set<string>()
    const unowned = open.filter((r) => {
      if (r.instance && live.has(r.instance)) kept.add(r.id)
      return !kept.has(r.id)
    })
    if (unowned.length) {
      const pipe = link.cmd.pipeline()
      for (const r of unowned) pipe.zscore(link.key('bleases'), r.requestId).exists(link.key('bt', r.requestId))
      const res = (await pipe.exec()) ?? []
      unowned.forEach((r, i) => {
        const [lease, tomb] = [res[2 * i], res[2 * i + 1]]
        // An unanswered check keeps the row (a later start sweeps it; a double charge cannot be undone).
        if (!lease || !tomb || lease[0] || tomb[0] || lease[1] !== null || Number(tomb[1]) > 0) kept.add(r.id)
      })
    }
    if (kept.size) log(`spend: crash sweep left ${kept.size} open reservation(s) of live instances or held by leases alone`)
    return kept
  }
  let r: SweepResult
  try {
    r = await sweepOpenReservations(spend.db, spend.config.limits.crash_recovery, spend.clock(), log, keep)
  } catch (e) {
    log(`spend: crash sweep skipped: ${(e as Error).message} (reservations left open are swept at a later start)`)
    return { rows: 0, chargedNanos: 0 }
  }
  // The budget was loaded before the sweep: count what it charged.
  if (r.rows) await spend.rebuild()
  return r
}
