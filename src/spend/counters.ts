/**
 * Rebuilds the in-memory budget from the ledger at start: for every key, user and project,
 * what was spent in the current day, week and month (by each row's reservation instant) and
 * in total; and every project's credit top-ups and usage.
 */
import { and, eq, gte, lt, sql } from 'drizzle-orm'
import type { Db } from '../db/client'
import { creditLedger, spendLedger } from '../db/schema-spend'
import { type Budget, scopeKey } from './budget'
import { creditsUsed, readCheckpoint } from './checkpoint'
import { WINDOWS, type WindowKind } from './windows'

export interface CreditTotals {
  topups: number
  used: number
}

export type WindowSums = Record<WindowKind, number>

/**
 * Spend per scope (key, user, project) and window, summed from the ledger as of `budget`'s
 * clock; with `before`, only rows reserved before that time.
 */
export async function spentSums(db: Db, budget: Budget, before?: number): Promise<Map<string, WindowSums>> {
  const spans = budget.spansAt(budget.now())
  // With a checkpoint (src/spend/checkpoint.ts), only the rows after it and those of the
  // current windows are read; totals before it come from the checkpoint.
  const cp = await readCheckpoint(db)
  const since = cp && (before === undefined || before >= cp.upto) ? cp.upto : undefined
  const starts = { day: spans.day.start, week: spans.week.start, month: spans.month.start }
  const rows = await db
    .select({ keyId: spendLedger.keyId, user: spendLedger.user, project: spendLedger.project, ...windowSumColumns(starts, since) })
    .from(spendLedger)
    .where(and(scanFrom(starts, since), before === undefined ? undefined : lt(spendLedger.ts, before)))
    .groupBy(spendLedger.keyId, spendLedger.user, spendLedger.project)
  const sums = new Map<string, WindowSums>()
  const add = (r: { keyId: string; user: string | null; project: string } & WindowSums) => {
    addSums(sums, scopeKey('key', r.keyId), r)
    addSums(sums, scopeKey('project', r.project), r)
    if (r.user) addSums(sums, scopeKey('user', r.user), r)
  }
  for (const r of rows) add(r)
  if (since !== undefined) for (const t of cp!.totals) add({ ...t, day: 0, week: 0, month: 0, total: t.cost })
  return sums
}

/** Where the current windows start (epoch ms). */
export interface WindowStarts {
  day: number
  week: number
  month: number
}

/**
 * The ledger's cost per window, as select columns; with a checkpoint at `since`, `total` counts
 * only the rows from `since` on (the checkpoint holds the rest).
 */
export function windowSumColumns(starts: WindowStarts, since?: number) {
  const from = (t: number) => sql<number>`coalesce(sum(case when ${spendLedger.ts} >= ${t} then ${spendLedger.costNanos} else 0 end), 0)`
  return { day: from(starts.day), week: from(starts.week), month: from(starts.month), total: since === undefined ? sql<number>`coalesce(sum(${spendLedger.costNanos}), 0)` : from(since) }
}

/** The rows those columns need: with a checkpoint, none before it or before the windows. */
export function scanFrom(starts: WindowStarts, since?: number) {
  return since === undefined ? undefined : gte(spendLedger.ts, Math.min(since, starts.day, starts.week, starts.month))
}

/** Adds one row's window sums into `sums` under `key`. */
export function addSums(sums: Map<string, WindowSums>, key: string, r: WindowSums): void {
  const s = sums.get(key) ?? { day: 0, week: 0, month: 0, total: 0 }
  for (const k of WINDOWS) s[k] += Number(r[k])
  sums.set(key, s)
}

export async function loadSpent(db: Db, budget: Budget): Promise<void> {
  for (const [key, s] of await spentSums(db, budget)) for (const k of WINDOWS) budget.load(key, k, s[k])
}

/** Top-ups and usage per project, from the credit ledger (usage: from its checkpoint on). */
export async function loadCredits(db: Db): Promise<Map<string, CreditTotals>> {
  const topups = await loadTopups(db)
  const used = await creditsUsed(db)
  const out = new Map<string, CreditTotals>()
  for (const project of new Set([...topups.keys(), ...used.keys()])) out.set(project, { topups: topups.get(project) ?? 0, used: used.get(project) ?? 0 })
  return out
}

/**
 * Top-ups per project only: what the periodic refresh needs (usage is this process's own). A
 * range of the (kind, project, amount) index, however many usage rows managed traffic added.
 */
export async function loadTopups(db: Db): Promise<Map<string, number>> {
  const rows = await topupsQuery(db)
  return new Map(rows.map((r) => [r.project, Number(r.topups)]))
}

export function topupsQuery(db: Db) {
  return db
    .select({ project: creditLedger.project, topups: sql<number>`coalesce(sum(${creditLedger.amountNanos}), 0)` })
    .from(creditLedger)
    .where(eq(creditLedger.kind, 'topup'))
    .groupBy(creditLedger.project)
}
