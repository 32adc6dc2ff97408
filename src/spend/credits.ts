/**
 * Prepaid credits of projects that use managed providers: a ledger of top-ups (positive)
 * and usage (negative, one row per settled request), never a single mutable balance.
 * The gateway draws usage itself; top-ups come from `tollgate credits add` and reach a
 * running gateway within its refresh interval.
 */
import { desc, eq } from 'drizzle-orm'
import type { Db } from '../db/client'
import { creditLedger, spendLedger } from '../db/schema-spend'
import { loadCredits } from './counters'

export async function addCredits(db: Db, project: string, nanos: number, note: string | undefined, now = Date.now()): Promise<void> {
  await db.insert(creditLedger).values({ project, ts: now, kind: 'topup', amountNanos: nanos, note })
}

export interface CreditBalance {
  project: string
  topups: number
  used: number
  /** Open reservations of managed requests (in flight, or left by a crash before the sweep). */
  reserved: number
  balance: number
}

export async function creditBalances(db: Db, projects: string[]): Promise<CreditBalance[]> {
  const totals = await loadCredits(db)
  const open = await db.select({ project: spendLedger.project, reserved: spendLedger.reservedNanos, managed: spendLedger.managed }).from(spendLedger).where(eq(spendLedger.state, 'reserved'))
  const names = [...new Set([...projects, ...totals.keys()])]
  return names.map((project) => {
    const t = totals.get(project) ?? { topups: 0, used: 0 }
    const reserved = open.filter((o) => o.project === project && o.managed).reduce((n, o) => n + o.reserved, 0)
    return { project, topups: t.topups, used: t.used, reserved, balance: t.topups - t.used }
  })
}

export async function creditEntries(db: Db, project: string | undefined, limit: number) {
  const q = db.select().from(creditLedger)
  return (project ? q.where(eq(creditLedger.project, project)) : q).orderBy(desc(creditLedger.id)).limit(limit)
}
