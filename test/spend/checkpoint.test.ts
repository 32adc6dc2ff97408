/**
 * The spend checkpoint (src/spend/checkpoint.ts): start-up sums with a checkpoint equal a sum of
 * the whole ledger, for every scope and window, before and after the checkpoint moves on, with
 * reservations still open (they hold it back) and settled later, and for the cluster's
 * "rows before T" sums; and credit usage (balances, a cluster's credit scope) likewise. Rows
 * before the checkpoint are not read again. On libSQL and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import { openDatabase, type Database } from '../../src/db/client'
import { creditLedger, spendLedger, spendTotals } from '../../src/db/schema-spend'
import { Budget, scopeKey } from '../../src/spend/budget'
import { advanceCheckpoint, creditsUsed, readCheckpoint } from '../../src/spend/checkpoint'
import { loadCredits, spentSums, type WindowSums } from '../../src/spend/counters'
import { WINDOWS } from '../../src/spend/windows'
import { scopeSums } from '../../src/cluster/ledger'
import { createTestDatabase, dropTestDatabase, skipWithoutPostgres } from '../support/postgres'
import { seededRandom } from '../support/random'
import { basicConfig, startGateway } from '../support/gateway'
import { eventually } from './helpers'

const DAY = 86_400_000
const noPg = skipWithoutPostgres('the spend checkpoint on PostgreSQL')

type Row = typeof spendLedger.$inferInsert
type Credit = typeof creditLedger.$inferInsert

/** Top-ups and usage per project, straight from the credit rows. */
function naiveCredits(credits: Credit[], before?: number): Record<string, { topups: number; used: number }> {
  const out: Record<string, { topups: number; used: number }> = {}
  for (const c of credits) {
    const t = (out[c.project] ??= { topups: 0, used: 0 })
    if (c.kind === 'topup') t.topups += c.amountNanos
    else if (before === undefined || c.ts < before) t.used -= c.amountNanos
  }
  return out
}

const asRecord = (m: Map<string, { topups: number; used: number }>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)))

/** Every scope's window sums, straight from the rows (what the ledger means). */
function naive(rows: Row[], budget: Budget, before?: number): Map<string, WindowSums> {
  const spans = budget.spansAt(budget.now())
  const out = new Map<string, WindowSums>()
  for (const r of rows) {
    if (before !== undefined && r.ts >= before) continue
    const cost = r.costNanos ?? 0
    for (const scope of [scopeKey('key', r.keyId), scopeKey('project', r.project), ...(r.user ? [scopeKey('user', r.user)] : [])]) {
      const s = out.get(scope) ?? { day: 0, week: 0, month: 0, total: 0 }
      if (r.ts >= spans.day.start) s.day += cost
      if (r.ts >= spans.week.start) s.week += cost
      if (r.ts >= spans.month.start) s.month += cost
      s.total += cost
      out.set(scope, s)
    }
  }
  return out
}

/** Scopes with nothing spent are the same as absent ones. */
function nonZero(m: Map<string, WindowSums>): Record<string, WindowSums> {
  const out: Record<string, WindowSums> = {}
  for (const [k, v] of [...m].sort(([a], [b]) => a.localeCompare(b))) if (WINDOWS.some((w) => v[w] !== 0)) out[k] = v
  return out
}

for (const engine of ['libsql', 'postgres'] as const) {
  describe.skipIf(engine === 'postgres' && !!noPg)(`spend checkpoint: ${engine}`, () => {
    let database: Database
    let dir: string | undefined
    let url: string
    beforeAll(async () => {
      if (engine === 'postgres') url = await createTestDatabase('checkpoint')
      else url = `file:${join((dir = mkdtempSync(join(tmpdir(), 'tollgate-checkpoint-'))), 'test.db')}`
      database = await openDatabase(url)
    })
    afterAll(async () => {
      await database?.close()
      if (engine === 'postgres') await dropTestDatabase(url)
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    test('sums with a checkpoint equal the whole ledger, as it moves on and as reservations settle', async () => {
      const db = database.db
      const random = seededRandom(42)
      // Mid-month, mid-week (a Thursday), so every window starts at a different time.
      let now = Date.UTC(2026, 9, 15, 13, 30)
      const budget = new Budget('UTC', () => now)
      const keys = [
        ['k1', 'alice', 'p1'],
        ['k2', null, 'p1'],
        ['k3', 'bob', 'p2'],
        ['k4', 'alice', 'p2'],
      ] as const
      const rows: Row[] = []
      const row = (i: number, ts: number, state: Row['state'], cost: number): Row => {
        const [keyId, user, project] = keys[i % keys.length]!
        return { id: `r${rows.length}`, requestId: `r${rows.length}`, ts, keyId, user, project, state, reservedNanos: 1000, costNanos: cost }
      }
      // 90 days of settled spend, a few released rows at 0, and one reservation 20 days old still open.
      for (let i = 0; i < 600; i++) rows.push(row(i, now - Math.floor(random() * 90 * DAY), i % 17 ? 'settled' : 'released', i % 17 ? 1 + Math.floor(random() * 5_000_000) : 0))
      const open = row(1, now - 20 * DAY, 'reserved', 0)
      rows.push(open)
      for (let i = 0; i < rows.length; i += 200) await db.insert(spendLedger).values(rows.slice(i, i + 200))
      // Managed spend draws on credits: top-ups, and a usage row per settled request of p1's key k1.
      const credits: Credit[] = [
        { project: 'p1', ts: now - 80 * DAY, kind: 'topup', amountNanos: 500_000_000_000 },
        { project: 'p2', ts: now - 3 * DAY, kind: 'topup', amountNanos: 7_000_000_000 },
        ...rows.filter((r) => r.keyId === 'k1' && (r.costNanos ?? 0) > 0).map((r) => ({ project: r.project, ts: r.ts, kind: 'usage' as const, amountNanos: -(r.costNanos ?? 0), ledgerId: r.id })),
      ]
      await db.insert(creditLedger).values(credits)
      const creditsMatch = async () => {
        expect(asRecord(await loadCredits(db))).toEqual(naiveCredits(credits))
        expect((await creditsUsed(db, { project: 'p1' })).get('p1')).toBe(naiveCredits(credits).p1!.used)
      }
      await creditsMatch()

      expect(await readCheckpoint(db)).toBeUndefined()
      expect(nonZero(await spentSums(db, budget))).toEqual(nonZero(naive(rows, budget)))

      // The open reservation holds the checkpoint back to its own time.
      const upto = await advanceCheckpoint(db, now)
      expect(upto).toBe(open.ts)
      expect((await readCheckpoint(db))!.upto).toBe(open.ts)
      expect(nonZero(await spentSums(db, budget))).toEqual(nonZero(naive(rows, budget)))
      await creditsMatch()

      // It settles later (the row keeps its reservation time): counted once.
      await db.update(spendLedger).set({ state: 'settled', costNanos: 7_000_000 }).where(eq(spendLedger.id, open.id))
      open.state = 'settled'
      open.costNanos = 7_000_000
      expect(nonZero(await spentSums(db, budget))).toEqual(nonZero(naive(rows, budget)))

      // Ten days on, with new spend: the checkpoint moves to a week back, at UTC midnight.
      now += 10 * DAY
      for (let i = 0; i < 100; i++) rows.push(row(i, now - Math.floor(random() * 12 * DAY), 'settled', 1 + Math.floor(random() * 5_000_000)))
      await db.insert(spendLedger).values(rows.slice(-100))
      const later = rows.slice(-100).filter((r) => r.keyId === 'k1').map((r) => ({ project: r.project, ts: r.ts, kind: 'usage' as const, amountNanos: -(r.costNanos ?? 0), ledgerId: r.id }))
      await db.insert(creditLedger).values(later)
      credits.push(...later)
      const moved = await advanceCheckpoint(db, now)
      expect(moved).toBe(Math.floor((now - 7 * DAY) / DAY) * DAY)
      expect(nonZero(await spentSums(db, budget))).toEqual(nonZero(naive(rows, budget)))
      await creditsMatch()
      // Moving again at once changes nothing.
      expect(await advanceCheckpoint(db, now)).toBe(moved)
      expect(nonZero(await spentSums(db, budget))).toEqual(nonZero(naive(rows, budget)))

      // A cluster loading one scope into Redis reads it the same way.
      const spans = budget.spansAt(now)
      for (const [scope, sums] of naive(rows, budget)) expect(await scopeSums(db, scope, { day: spans.day.start, week: spans.week.start, month: spans.month.start })).toEqual(sums)

      // The cluster's "spend reserved before T", after the checkpoint and before it.
      for (const before of [now - 2 * DAY, moved! - 3 * DAY]) {
        expect(nonZero(await spentSums(db, budget, before))).toEqual(nonZero(naive(rows, budget, before)))
        expect(Object.fromEntries(await creditsUsed(db, { before }))).toEqual(Object.fromEntries(Object.entries(naiveCredits(credits, before)).filter(([, c]) => c.used !== 0).map(([p, c]) => [p, c.used])))
      }

      // The checkpoint holds one row per (key, user, project), plus its marker.
      const stored = await db.select().from(spendTotals)
      expect(stored.length).toBe(keys.length + 1)
      expect(new Set(stored.map((r) => Number(r.uptoTs)))).toEqual(new Set([moved!]))
    })

    test('rows before the checkpoint are not read again at start-up', async () => {
      const db = database.db
      const cp = (await readCheckpoint(db))!
      const budget = new Budget('UTC', () => cp.upto + 10 * DAY)
      const spans = budget.spansAt(budget.now())
      const starts = { day: spans.day.start, week: spans.week.start, month: spans.month.start }
      const before = nonZero(await spentSums(db, budget))
      const k1 = await scopeSums(db, 'key:k1', starts)
      // A row the checkpoint has already passed (a ledger never gets one): a sum that still
      // read the whole ledger would count it.
      const p1Credits = (await creditsUsed(db)).get('p1')
      await db.insert(spendLedger).values({ id: 'behind', requestId: 'behind', ts: cp.upto - 40 * DAY, keyId: 'k1', user: 'alice', project: 'p1', state: 'settled', reservedNanos: 0, costNanos: 123 })
      await db.insert(creditLedger).values({ project: 'p1', ts: cp.upto - 40 * DAY, kind: 'usage', amountNanos: -123, ledgerId: 'behind' })
      expect(nonZero(await spentSums(db, budget))).toEqual(before)
      expect(await scopeSums(db, 'key:k1', starts)).toEqual(k1)
      expect((await creditsUsed(db)).get('p1')).toBe(p1Credits)
      expect((await scopeSums(db, 'credits:p1', starts)).total).toBe(p1Credits!)
    })
  })
}

test('a gateway moves the checkpoint on after it starts, off the request path', async () => {
  const gateway = await startGateway(basicConfig(`[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "http://127.0.0.1:9/v1"\napi_key = "sk-test-checkpoint"\n`, `[admin]\nenabled = false\n[logging]\nlevel = "off"\n`))
  try {
    await eventually(async () => (await readCheckpoint(gateway.gw.database.db)) !== undefined)
    const cp = (await readCheckpoint(gateway.gw.database.db))!
    expect(cp.upto).toBeLessThanOrEqual(Date.now() - 7 * DAY)
    expect(cp.totals).toEqual([])
  } finally {
    await gateway.stop()
  }
})
