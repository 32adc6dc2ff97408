/**
 * The crash sweep, run at start before any request is admitted. A ledger row still
 * `reserved` belongs to a request that was in flight when the process died (kill -9,
 * power loss): it cannot have a settlement. The rule (`limits.crash_recovery`):
 * - "charge" (default): settle it at its reserved estimate, an upper bound of what the
 *   provider can have billed, so a crash never frees budget that may have been spent;
 * - "release": settle it at zero.
 * Either way the row becomes `recovered` with note `crash`, and the start-up log says how
 * many rows were swept and what they were charged. Managed rows draw their charge from credits.
 *
 * In a cluster (several instances on one database) a `reserved` row may be another live
 * instance's request in flight: `keep` names the rows to leave alone (src/cluster/startup-sweep.ts).
 */
import { and, eq } from 'drizzle-orm'
import type { Db } from '../db/client'
import { creditLedger, spendLedger } from '../db/schema-spend'
import { formatUsd } from './money'

export interface SweepResult {
  rows: number
  chargedNanos: number
}

export type OpenRow = typeof spendLedger.$inferSelect

export async function sweepOpenReservations(
  db: Db,
  rule: 'charge' | 'release',
  now: number,
  log = console.log,
  keep?: (open: OpenRow[]) => Promise<Set<string>>,
): Promise<SweepResult> {
  let open = await db.select().from(spendLedger).where(eq(spendLedger.state, 'reserved'))
  if (keep && open.length) {
    const kept = await keep(open)
    open = open.filter((r) => !kept.has(r.id))
  }
  if (!open.length) return { rows: 0, chargedNanos: 0 }
  let charged = 0
  const stmts = []
  for (const r of open) {
    const cost = rule === 'charge' ? r.reservedNanos : 0
    charged += cost
    stmts.push(
      db
        .update(spendLedger)
        .set({ state: 'recovered', costNanos: cost, providerCostNanos: cost, estimated: true, settledAt: now, note: 'crash' })
        // Still reserved: a survivor's lease sweep may have settled it meanwhile.
        .where(and(eq(spendLedger.id, r.id), eq(spendLedger.state, 'reserved'))),
    )
    // Once per ledger row (unique credit_ledger_usage_ledger_id): a usage row already written wins. No
    // target: drizzle 0.45's SQLite builder writes a target's WHERE after DO NOTHING, which SQLite refuses.
    if (r.managed && cost > 0) stmts.push(db.insert(creditLedger).values({ project: r.project, ts: r.ts, kind: 'usage', amountNanos: -cost, ledgerId: r.id, note: 'crash' }).onConflictDoNothing())
  }
  await db.batch(stmts as [(typeof stmts)[number], ...(typeof stmts)[number][]])
  log(
    `spend: swept ${open.length} reservation(s) left open by a crash: ` +
      (rule === 'charge' ? `charged ${formatUsd(charged)} at their estimates` : 'released at $0') +
      ` (limits.crash_recovery = "${rule}"; ledger rows marked recovered)`,
  )
  return { rows: open.length, chargedNanos: charged }
}
