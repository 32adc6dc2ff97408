/**
 * What the shared budget reads from and writes to the SQL spend ledger (src/db/schema-spend.ts):
 * the ledger is the truth, Redis a cache of it.
 * - `scopeSums`: a scope's spend in the current windows (loading a scope into Redis);
 * - `settledRowsOf`: rows of requests that are still open in some instance's report, already
 *   settled in SQL (a rebuild must not count them twice);
 * - `recoverSwept`: the ledger side of a lease sweep, by the rule of the crash sweep
 *   (src/spend/recovery.ts): rows still `reserved` become `recovered` (note `lease_expired`).
 */
import { and, eq, inArray, ne } from 'drizzle-orm'
import type { Db } from '../db/client'
import { creditLedger, spendLedger } from '../db/schema-spend'
import { formatUsd } from '../spend/money'
import { creditsUsed, scopeCheckpoint } from '../spend/checkpoint'
import { addSums, scanFrom, spentSums, windowSumColumns, type WindowStarts } from '../spend/counters'
import { scopeKey, type Budget } from '../spend/budget'
import { WINDOWS, type WindowKind } from '../spend/windows'

export type Sums = Record<WindowKind, number>
export type Starts = WindowStarts

const CHUNK = 400

/** Spend of a scope ("key:k", "user:u", "project:p", "credits:p") in the windows starting at `starts`. */
export async function scopeSums(db: Db, scope: string, starts: Starts): Promise<Sums> {
  const at = scope.indexOf(':')
  const kind = scope.slice(0, at)
  const id = scope.slice(at + 1)
  if (kind === 'credits') return { day: 0, week: 0, month: 0, total: (await creditsUsed(db, { project: id })).get(id) ?? 0 }
  const of = kind === 'key' ? 'key' : kind === 'user' ? 'user' : 'project'
  const col = of === 'key' ? spendLedger.keyId : of === 'user' ? spendLedger.user : spendLedger.project
  // The spend checkpoint holds the scope's total before it: only later rows and the current windows' are read.
  const cp = await scopeCheckpoint(db, of, id)
  const [r] = await db
    .select(windowSumColumns(starts, cp?.upto))
    .from(spendLedger)
    .where(and(eq(col, id), scanFrom(starts, cp?.upto)))
  return { day: Number(r?.day ?? 0), week: Number(r?.week ?? 0), month: Number(r?.month ?? 0), total: Number(r?.total ?? 0) + (cp?.cost ?? 0) }
}

/**
 * Every scope's spend from rows reserved before `before` (when Redis went away), into a budget:
 * the base of each instance's local share, the same on every instance however late it looks.
 */
export async function loadSpentBefore(db: Db, budget: Budget, before: number): Promise<void> {
  const sums = await spentSums(db, budget, before)
  for (const [project, used] of await creditsUsed(db, { before })) addSums(sums, scopeKey('credits', project), { day: 0, week: 0, month: 0, total: used })
  for (const [key, s] of sums) for (const k of WINDOWS) budget.load(key, k, s[k])
}

export interface SettledRow {
  ts: number
  keyId: string
  user: string | null
  project: string
  cost: number
  /** What the row drew from the project's credits. */
  credits: number
}

/** Rows (attempts included) of these requests that are already settled in SQL. */
export async function settledRowsOf(db: Db, requestIds: string[]): Promise<SettledRow[]> {
  const out: SettledRow[] = []
  for (let i = 0; i < requestIds.length; i += CHUNK) {
    const ids = requestIds.slice(i, i + CHUNK)
    const rows = await db
      .select({ id: spendLedger.id, ts: spendLedger.ts, keyId: spendLedger.keyId, user: spendLedger.user, project: spendLedger.project, cost: spendLedger.costNanos })
      .from(spendLedger)
      .where(and(inArray(spendLedger.requestId, ids), ne(spendLedger.state, 'reserved')))
    if (!rows.length) continue
    const credits = await db
      .select({ ledgerId: creditLedger.ledgerId, amount: creditLedger.amountNanos })
      .from(creditLedger)
      .where(and(inArray(creditLedger.ledgerId, rows.map((r) => r.id)), eq(creditLedger.kind, 'usage')))
    const drawn = new Map<string, number>()
    for (const c of credits) if (c.ledgerId) drawn.set(c.ledgerId, (drawn.get(c.ledgerId) ?? 0) - c.amount)
    for (const r of rows) out.push({ ts: r.ts, keyId: r.keyId, user: r.user, project: r.project, cost: r.cost, credits: drawn.get(r.id) ?? 0 })
  }
  return out
}

/**
 * The ledger side of a lease sweep: reservations settled by nobody become `recovered` at their
 * reserved estimate ("charge") or at zero ("release"); reservations settled in Redis whose
 * settlement died with its instance's write queue get that settlement (note `settled_by_survivor`).
 */
export async function recoverSwept(db: Db, swept: string[], settled: Map<string, number>, rule: 'charge' | 'release', now: number, log: (line: string) => void): Promise<void> {
  let n = 0
  let charged = 0
  let written = 0
  const ids = [...swept, ...settled.keys()]
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await db
      .select({ id: spendLedger.id, project: spendLedger.project, ts: spendLedger.ts, managed: spendLedger.managed, reserved: spendLedger.reservedNanos })
      .from(spendLedger)
      .where(and(inArray(spendLedger.id, ids.slice(i, i + CHUNK)), eq(spendLedger.state, 'reserved')))
    if (!rows.length) continue
    const stmts = []
    for (const r of rows) {
      const known = settled.get(r.id)
      const cost = known ?? (rule === 'charge' ? r.reserved : 0)
      if (known === undefined) {
        n++
        charged += cost
      } else written++
      const set =
        known === undefined
          ? { state: 'recovered' as const, costNanos: cost, providerCostNanos: cost, estimated: true, settledAt: now, note: 'lease_expired' }
          : { state: cost > 0 ? ('settled' as const) : ('released' as const), costNanos: cost, providerCostNanos: cost, settledAt: now, note: 'settled_by_survivor' }
      stmts.push(db.update(spendLedger).set(set).where(and(eq(spendLedger.id, r.id), eq(spendLedger.state, 'reserved'))))
      // Once per ledger row (unique credit_ledger_usage_ledger_id): a usage row already written wins. No
      // target: drizzle 0.45's SQLite builder writes a target's WHERE after DO NOTHING, which SQLite refuses.
      if (r.managed && cost > 0) stmts.push(db.insert(creditLedger).values({ project: r.project, ts: r.ts, kind: 'usage', amountNanos: -cost, ledgerId: r.id, note: set.note }).onConflictDoNothing())
    }
    await db.batch(stmts as [(typeof stmts)[number], ...(typeof stmts)[number][]])
  }
  if (n) log(`cluster: ${n} reservation(s) of an instance that stopped renewing its leases were ${rule === 'charge' ? `charged ${formatUsd(charged)} at their estimates` : 'released at $0'} (limits.crash_recovery = "${rule}"; ledger rows marked recovered, note lease_expired)`)
  if (written) log(`cluster: ${written} settlement(s) a dead instance had not written yet were written to the ledger (note settled_by_survivor)`)
}
