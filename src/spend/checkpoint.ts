/**
 * The spend checkpoint (table spend_totals): what every ledger row reserved before `upto` cost,
 * per (key, user, project). Without it, start-up sums the whole ledger, which grows by a row per
 * request forever; with it, start-up reads the rows after `upto` and those of the current
 * windows (src/spend/counters.ts spentSums).
 *
 * Only a past that can no longer change is folded in: rows change until their request settles
 * (INSERT OR REPLACE keeps the reservation's `ts`), so `upto` stays a week back and before the
 * oldest reservation still open (a stream with timeouts off, another instance's lease). Ledger
 * rows are never deleted, so a checkpoint never goes stale. The credit ledger's usage (a row per
 * managed request, at its reservation's `ts`) is folded in beside it, per project, to the same
 * `upto` (table credit_totals). It moves on after start-up and every few hours, on the query
 * thread; each move rewrites both tables in one transaction, so a reader sees one whole
 * checkpoint, and instances moving it at once each write a consistent one.
 */
import { and, eq, gte, inArray, lt, max, min, sql } from 'drizzle-orm'
import type { Db } from '../db/client'
import { creditLedger, creditTotals, spendLedger, spendTotals } from '../db/schema-spend'

/**
 * How far back a checkpoint stays: requests settle within their total timeout (30 minutes by
 * default), and a week also covers rows that waited days for a database that could not be
 * written to. It costs nothing at start-up, which reads the month's rows anyway.
 */
const MARGIN_MS = 7 * 86_400_000
const DAY_MS = 86_400_000
/** Rows inserted per statement (5 values each, well within either engine's parameter limit). */
const CHUNK = 1000

export interface GroupTotal {
  keyId: string
  user: string | null
  project: string
  cost: number
}

export interface Checkpoint {
  /** Rows with ts < upto are summed in `totals`. */
  upto: number
  totals: GroupTotal[]
}

/** The checkpoint as one statement reads it (so `upto` and the totals belong together), or undefined. */
export async function readCheckpoint(db: Db): Promise<Checkpoint | undefined> {
  const rows = await db.select().from(spendTotals)
  if (!rows.length) return undefined
  const upto = Number(rows[0]!.uptoTs)
  const totals: GroupTotal[] = []
  for (const r of rows) if (r.keyId !== '') totals.push({ keyId: r.keyId, user: r.user, project: r.project, cost: Number(r.costNanos) })
  return { upto, totals }
}

/**
 * One scope's total in the checkpoint, and where the checkpoint is, in one statement (so they
 * agree); undefined without a checkpoint.
 */
export async function scopeCheckpoint(db: Db, kind: 'key' | 'user' | 'project', id: string): Promise<{ upto: number; cost: number } | undefined> {
  const col = kind === 'key' ? spendTotals.keyId : kind === 'user' ? spendTotals.user : spendTotals.project
  const [r] = await db
    .select({ upto: max(spendTotals.uptoTs), cost: sql<number>`coalesce(sum(case when ${col} = ${id} then ${spendTotals.costNanos} else 0 end), 0)` })
    .from(spendTotals)
  return r?.upto === null || r?.upto === undefined ? undefined : { upto: Number(r.upto), cost: Number(r.cost) }
}

/** Credit usage per project from the checkpoint on (`project`: that one only; `before`: rows before it), plus the checkpoint's. */
export async function creditsUsed(db: Db, opts: { project?: string; before?: number } = {}): Promise<Map<string, number>> {
  // One statement: the marker row says where the checkpoint is, the others what it holds.
  const cp = await db
    .select()
    .from(creditTotals)
    .where(opts.project === undefined ? undefined : inArray(creditTotals.project, ['', opts.project]))
  const upto = cp.length ? Number(cp[0]!.uptoTs) : undefined
  const since = upto !== undefined && (opts.before === undefined || opts.before >= upto) ? upto : undefined
  const rows = await db
    .select({ project: creditLedger.project, used: sql<number>`coalesce(sum(-${creditLedger.amountNanos}), 0)` })
    .from(creditLedger)
    .where(
      and(
        eq(creditLedger.kind, 'usage'),
        since === undefined ? undefined : gte(creditLedger.ts, since),
        opts.before === undefined ? undefined : lt(creditLedger.ts, opts.before),
        opts.project === undefined ? undefined : eq(creditLedger.project, opts.project),
      ),
    )
    .groupBy(creditLedger.project)
  const used = new Map<string, number>()
  const add = (project: string, n: number) => used.set(project, (used.get(project) ?? 0) + n)
  if (since !== undefined) for (const r of cp) if (r.project !== '') add(r.project, Number(r.usedNanos))
  for (const r of rows) add(r.project, Number(r.used))
  return used
}

/** Where a checkpoint taken at `now` may reach: a week back (UTC midnight), and before the oldest open reservation. */
export async function settledHorizon(db: Db, now: number): Promise<number> {
  let upto = Math.floor((now - MARGIN_MS) / DAY_MS) * DAY_MS
  const [open] = await db.select({ ts: min(spendLedger.ts) }).from(spendLedger).where(eq(spendLedger.state, 'reserved'))
  if (open?.ts !== null && open?.ts !== undefined) upto = Math.min(upto, Number(open.ts))
  return upto
}

/**
 * Moves the checkpoint on to the settled horizon at `now`, reading only the rows between the
 * old checkpoint and the new one. Returns the checkpoint now in force (undefined: none yet,
 * nothing settled to fold in).
 */
export async function advanceCheckpoint(db: Db, now: number): Promise<number | undefined> {
  const old = await readCheckpoint(db)
  const from = old?.upto
  const upto = await settledHorizon(db, now)
  if (from !== undefined && upto <= from) return from
  // Credit usage up to the same point: the old checkpoint's plus the rows since it (one read each, as creditsUsed does).
  const credits = await creditsUsed(db, { before: upto })
  const added = await db
    .select({ keyId: spendLedger.keyId, user: spendLedger.user, project: spendLedger.project, cost: sql<number>`coalesce(sum(${spendLedger.costNanos}), 0)` })
    .from(spendLedger)
    .where(and(from === undefined ? undefined : gte(spendLedger.ts, from), lt(spendLedger.ts, upto)))
    .groupBy(spendLedger.keyId, spendLedger.user, spendLedger.project)
  const merged = new Map<string, GroupTotal>()
  for (const t of [...(old?.totals ?? []), ...added.map((r) => ({ keyId: r.keyId, user: r.user, project: r.project, cost: Number(r.cost) }))]) {
    const id = JSON.stringify([t.keyId, t.user, t.project])
    const m = merged.get(id)
    if (m) m.cost += t.cost
    else merged.set(id, { ...t })
  }
  const rows = [{ keyId: '', user: null, project: '', uptoTs: upto, costNanos: 0 }, ...[...merged.values()].map((t) => ({ keyId: t.keyId, user: t.user, project: t.project, uptoTs: upto, costNanos: t.cost }))]
  const creditRows = [{ project: '', uptoTs: upto, usedNanos: 0 }, ...[...credits].map(([project, used]) => ({ project, uptoTs: upto, usedNanos: used }))]
  const inserts = []
  for (let i = 0; i < rows.length; i += CHUNK) inserts.push(db.insert(spendTotals).values(rows.slice(i, i + CHUNK)))
  for (let i = 0; i < creditRows.length; i += CHUNK) inserts.push(db.insert(creditTotals).values(creditRows.slice(i, i + CHUNK)))
  await db.batch([db.delete(spendTotals), db.delete(creditTotals), ...inserts])
  return upto
}
