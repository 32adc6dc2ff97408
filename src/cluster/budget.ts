/**
 * Spend limits across instances: the spend engine's reserve-then-settle (src/spend/) made
 * shared. It is the pipeline's step right after the local spend reservation (src/spend/steps.ts), which has already reserved in
 * this process's memory (whose view of the other instances' spend is stale, so never
 * stricter than this one): `admit` reserves the same upper bound on every limited scope in
 * Redis in one script (budget-lua.ts), with the same rule; `settle` turns it into the cost
 * the spend step put on the exchange.
 *
 * Faults:
 * - Redis down, `on_redis_down = "closed"`: limited requests get a native 503 naming the cause;
 *   `"local"`: a budget of this instance's own, loaded from the ledger, where each limit leaves
 *   this instance 1/N of what remained when Redis went away (N = instances last seen).
 * - Redis empty or restarted: rebuilt from the ledger plus every instance's open reservations
 *   before limited keys are admitted again (ClusterLink's barrier; `rebuild` here).
 * - An instance dies: its leases stop being renewed; after `cluster.lease_seconds` the
 *   survivors settle its reservations by `limits.crash_recovery` (SWEEP), in Redis and in the
 *   ledger.
 */
import type { Exchange } from '../proxy/exchange'
import { LimitsUnavailableError } from '../ratelimit/errors'
import { Budget, isDenial, scopeKey, type LimitNanos, type Reservation, type ScopeLimit } from '../spend/budget'
import { limitError } from '../spend/errors'
import { isFreeOperation } from '../spend/estimate'
import { upperBound } from '../spend/upper-bound'
import type { Spend } from '../spend/service'
import { WINDOWS, type WindowKind } from '../spend/windows'
import { CONFIRM, INIT, RENEW, RESERVE, SETTLE, SWEEP } from './budget-lua'
import { loadSpentBefore, recoverSwept, scopeSums, settledRowsOf, type Starts, type Sums } from './ledger'
import { NotReadyError, RedisDownError, type ClusterLink, type Participant } from './link'

/** An idle scope leaves Redis after this long and is loaded from the ledger again when used. */
const SCOPE_TTL_MS = 6 * 3600_000
const RENEW_BATCH = 500
const SWEEP_BATCH = 200

/** What one admitted request holds of the shared budget (its `x.shared`). */
export interface SharedHold {
  id: string
  amount: number
  /** Scope names ("key:k1", …) in the order Redis holds them. */
  names: string[]
  starts: Starts
  /** 1-based scope a sweep does not charge (credits, when the first target is not managed); 0 = none. */
  free: number
  /** Admitted by this instance's local share while Redis was down. */
  local?: Reservation
  /** The settlement, waiting for Redis. */
  pending?: { cost: number; free: number }
  /** The settlement was sent; if its outcome is unknown (Redis failed meanwhile), a rebuild decides. */
  sent?: boolean
  /** Settled in Redis; kept (leased) there until this instance's ledger holds the settlement. */
  settled?: boolean
  /** In a rebuild report: Redis holds it (again) once ready. */
  reported?: boolean
}

/** An open reservation as an instance reports it to a rebuild. */
interface Reported {
  id: string
  a: number
  sc: string[]
  s: Starts
  f: number
}

interface Plan {
  scopes: ScopeLimit[]
  amount: number
  now: number
  free: number
}

export class SharedBudget implements Participant {
  private open = new Map<string, SharedHold>()
  private local: { budget: Budget; base: Map<string, Record<WindowKind, number>>; ready: Promise<void> } | undefined
  private diverged = false
  private ticks = 0
  private inflightCalls = new Set<Promise<unknown>>()
  /** Settlements made (tests: exactly one per admitted request). */
  settlements = 0

  constructor(
    private readonly link: ClusterLink,
    private readonly spend: Spend,
    private readonly log: (line: string) => void = console.log,
  ) {}

  private get leases(): string {
    return this.link.key('bleases')
  }

  reserve(ctx: Exchange): Promise<void> | void {
    const plan = this.plan(ctx)
    if (plan) return this.reserveAll(ctx, plan)
  }

  /** Turns the reservation into the cost the spend step settled (`x.costNanos`). */
  settle(ctx: Exchange): void {
    const o = ctx.shared
    if (!o) return
    ctx.shared = undefined
    this.settlements++
    const cost = Math.max(0, Math.round(ctx.costNanos ?? 0))
    const credits = o.names.findIndex((n) => n.startsWith('credits:'))
    const free = credits >= 0 && ctx.target.provider.managed !== true ? credits + 1 : 0
    if (o.local && !o.reported) {
      // Admitted by the local share: settled there; the ledger brings it into Redis at the next rebuild.
      this.local?.budget.settle(o.local, cost, free ? o.names[free - 1] : undefined)
      this.open.delete(o.id)
      return
    }
    o.pending = { cost, free }
    if (this.link.state === 'up' && !o.local) this.send(o)
  }

  /** Open reservations of this instance (tests, /ready). */
  get openCount(): number {
    return this.open.size
  }

  /** Graceful shutdown: waits for the settlements already sent, then releases them in Redis (the ledger has them). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inflightCalls])
    if (this.link.state === 'up') await this.confirmSettled().catch(() => {})
  }

  // --- admission

  /** The same upper bound the spend step reserved (src/spend/steps.ts `reserve`), on the scopes that have a limit. */
  private plan(ctx: Exchange): Plan | undefined {
    const { upstream, target, key, request } = ctx
    if (isFreeOperation(upstream, request.method, ctx.classification)) return undefined
    const needsCredits = ctx.route.targets.some((t) => t.provider.managed === true)
    const scopes = this.spend.scopesFor(key, ctx.user, ctx.project, needsCredits).filter((s) => WINDOWS.some((w) => s.limits[w] !== undefined))
    if (!scopes.length) return undefined
    const now = this.spend.clock()
    const managed = target.provider.managed === true
    const { amount } = upperBound(this.spend, ctx)
    const credits = scopes.findIndex((s) => s.kind === 'credits')
    return { scopes, amount, now, free: credits >= 0 && !managed ? credits + 1 : 0 }
  }

  private async reserveAll(ctx: Exchange, plan: Plan): Promise<void> {
    for (let attempt = 0; attempt < 4; attempt++) {
      const mode = await this.link.admission()
      if (mode === 'closed') throw new LimitsUnavailableError(this.link.cause)
      if (mode === 'local') return this.reserveLocally(ctx, plan)
      try {
        if (await this.reserveShared(ctx, plan)) return
      } catch (e) {
        if (!(e instanceof RedisDownError || e instanceof NotReadyError)) throw e
      }
    }
    throw new LimitsUnavailableError(this.link.cause || 'the shared counters are being rebuilt')
  }

  /** True when decided (admitted; a refusal throws); false when scopes had to be loaded first. */
  private async reserveShared(ctx: Exchange, plan: Plan): Promise<boolean> {
    const spans = this.spend.budget.spansAt(plan.now)
    const starts: Starts = { day: spans.day.start, week: spans.week.start, month: spans.month.start }
    const names = plan.scopes.map((s) => scopeKey(s.kind, s.id))
    const keys = [this.link.readyKey, this.leases, this.link.key('br', ctx.id), ...names.map((n) => this.link.key('b', n))]
    const args: (string | number)[] = [ctx.id, String(plan.amount), this.link.leaseMs, starts.day, starts.week, starts.month, SCOPE_TTL_MS, names.join('\n'), plan.free]
    for (const s of plan.scopes) for (const w of WINDOWS) args.push(s.limits[w] === undefined ? '' : String(s.limits[w]))
    const r = (await this.link.run(RESERVE, keys, args)) as number[]
    if (r[0] === -2) {
      await this.load(r.slice(1).map((i) => names[i - 1]!), starts)
      return false
    }
    if (r[0] === 0) {
      const w = WINDOWS[r[2]! - 1]!
      const d = { scope: plan.scopes[r[1]! - 1]!, window: w, limit: r[3]!, spent: r[4]!, reserved: r[5]!, resetsAt: spans[w].end }
      // Telemetry counts rejections by the scope that bound (as the spend step does).
      ctx.limit = { decision: 'rejected', scope: d.scope.kind, window: w }
      throw limitError(d, plan.now, this.spend.config.limits.timezone, ctx.target.provider.id)
    }
    this.track(ctx, { id: ctx.id, amount: plan.amount, names, starts: { day: r[1]!, week: r[2]!, month: r[3]! }, free: plan.free })
    return true
  }

  /** Loads scopes Redis does not hold from the ledger (first use, or after a rebuild). */
  private async load(names: string[], starts: Starts): Promise<void> {
    const args: (string | number)[] = [SCOPE_TTL_MS, starts.day, starts.week, starts.month]
    for (const n of names) {
      const s = await scopeSums(this.spend.db, n, starts)
      args.push(String(s.day), String(s.week), String(s.month), String(s.total))
    }
    await this.link.run(INIT, names.map((n) => this.link.key('b', n)), args)
  }

  /** Redis is down, `on_redis_down = "local"`: this instance's 1/N share of what each limit had left. */
  private async reserveLocally(ctx: Exchange, plan: Plan): Promise<void> {
    const share = await this.localShare()
    const n = this.link.instances
    const scopes = plan.scopes.map((s) => ({ ...s, limits: this.shareOf(share, scopeKey(s.kind, s.id), s.limits, n) }))
    const r = share.budget.tryReserve(scopes, plan.amount)
    if (isDenial(r)) {
      ctx.limit = { decision: 'rejected', scope: r.scope.kind, window: r.window }
      throw limitError(r, plan.now, this.spend.config.limits.timezone, ctx.target.provider.id)
    }
    this.diverged = true
    this.track(ctx, { id: ctx.id, amount: plan.amount, names: r.scopes, starts: { day: r.starts.day, week: r.starts.week, month: r.starts.month }, free: plan.free, local: r })
  }

  private async localShare() {
    if (!this.local) {
      const budget = new Budget(this.spend.config.limits.timezone, this.spend.clock)
      const since = this.link.downSince
      const ready = (async () => {
        await this.spend.ledger.flush().catch(() => {})
        await loadSpentBefore(this.spend.db, budget, since)
        this.log(`cluster: limited keys now spend a local 1/${this.link.instances} share of what each limit had left (on_redis_down = "local")`)
      })()
      this.local = { budget, base: new Map(), ready }
    }
    await this.local.ready
    return this.local
  }

  /** A limit as this instance's share: what was spent when Redis went away, plus 1/N of the rest. */
  private shareOf(share: NonNullable<SharedBudget['local']>, key: string, limits: LimitNanos, n: number): LimitNanos {
    let base = share.base.get(key)
    if (!base) {
      const w = share.budget.state(key).windows
      share.base.set(key, (base = { day: w.day.spent, week: w.week.spent, month: w.month.spent, total: w.total.spent }))
    }
    const out: LimitNanos = {}
    for (const k of WINDOWS) {
      const l = limits[k]
      if (l !== undefined) out[k] = base[k] + Math.floor(Math.max(0, l - base[k]) / Math.max(1, n))
    }
    return out
  }

  private track(ctx: Exchange, o: SharedHold): void {
    this.open.set(o.id, o)
    ctx.shared = o
  }

  // --- settlement

  private send(o: SharedHold): void {
    const p = o.pending!
    o.sent = true
    const keys = [this.link.readyKey, this.leases, this.link.key('br', o.id), this.link.key('bt', o.id), ...o.names.map((n) => this.link.key('b', n))]
    const args = [o.id, String(p.cost), p.free, SCOPE_TTL_MS, o.starts.day, o.starts.week, o.starts.month]
    const call = this.link.run(SETTLE, keys, args).then(
      (r) => {
        // 1: Redis keeps it until the ledger has it (tick confirms); otherwise nothing is left there.
        if (r === 1) o.settled = true
        else this.open.delete(o.id)
      },
      (e) => {
        // Not ready: nothing was written; it waits for the rebuild. Down: the outcome is unknown, a rebuild decides.
        if (e instanceof NotReadyError) o.sent = false
        else if (e instanceof RedisDownError) this.diverged = true
        else this.log(`cluster: settling ${o.id} failed: ${(e as Error).message}`)
      },
    )
    this.inflightCalls.add(call)
    void call.finally(() => this.inflightCalls.delete(call))
  }

  // --- Participant

  async prepare(): Promise<void> {
    this.diverged = false
    await this.spend.ledger.flush()
    // The ledger holds these settlements now; the rebuild reads them from there.
    for (const o of [...this.open.values()]) if (o.settled) this.open.delete(o.id)
  }

  async restoreOwn(): Promise<void> {}

  report(): Reported[] {
    const out: Reported[] = []
    for (const o of this.open.values()) {
      // Reported as open: Redis holds it unsettled again, and its settlement is (re)sent after the rebuild.
      o.reported = true
      o.sent = false
      o.settled = false
      out.push({ id: o.id, a: o.amount, sc: o.names, s: o.starts, f: o.free })
    }
    return out
  }

  /** The rebuilding instance: counters from the ledger for every scope with an open reservation, plus those reservations. */
  async rebuild(reports: unknown[]): Promise<void> {
    const opens = reports.flatMap((r) => (Array.isArray(r) ? (r as Reported[]) : []))
    const cmd = this.link.cmd
    for (const pattern of ['b:*', 'br:*']) await this.deleteMatching(this.link.key(pattern))
    await cmd.del(this.leases)
    const now = this.spend.clock()
    const spans = this.spend.budget.spansAt(now)
    const starts: Starts = { day: spans.day.start, week: spans.week.start, month: spans.month.start }
    const sums = new Map<string, Sums & { r: Sums; n: number }>()
    for (const name of new Set(opens.flatMap((o) => o.sc))) sums.set(name, { ...(await scopeSums(this.spend.db, name, starts)), r: { day: 0, week: 0, month: 0, total: 0 }, n: 0 })
    // Requests still open here but already settled in SQL count once: when their settlement reaches Redis.
    for (const row of await settledRowsOf(this.spend.db, opens.map((o) => o.id))) {
      for (const name of [scopeKey('key', row.keyId), row.user ? scopeKey('user', row.user) : '', scopeKey('project', row.project)]) {
        const s = sums.get(name)
        if (!s) continue
        for (const w of WINDOWS) if (w === 'total' || row.ts >= starts[w]) s[w] -= row.cost
      }
      const c = sums.get(scopeKey('credits', row.project))
      if (c) c.total -= row.credits
    }
    const until = now + this.link.clockOffset + this.link.leaseMs
    const pipe = cmd.pipeline()
    for (const o of opens) {
      for (const name of o.sc) {
        const s = sums.get(name)!
        for (const w of ['day', 'week', 'month'] as const) if (o.s[w] === starts[w]) s.r[w] += o.a
        s.r.total += o.a
        s.n++
      }
      pipe.hset(this.link.key('br', o.id), 'a', String(o.a), 'ds', String(o.s.day), 'ws', String(o.s.week), 'ms', String(o.s.month), 'sc', o.sc.join('\n'), 'f', o.f)
      pipe.zadd(this.leases, until, o.id)
    }
    for (const [name, s] of sums) {
      const k = this.link.key('b', name)
      pipe.hset(k, 'init', 1, 'ds', starts.day, 'dp', s.day, 'dr', s.r.day, 'ws', starts.week, 'wp', s.week, 'wr', s.r.week, 'ms', starts.month, 'mp', s.month, 'mr', s.r.month, 'tp', s.total, 'tr', s.r.total, 'n', s.n)
      pipe.pexpire(k, SCOPE_TTL_MS)
    }
    const results = await pipe.exec()
    const failed = results?.find(([e]) => e)
    if (failed) throw failed[0]
  }

  resume(): void {
    for (const o of this.open.values()) {
      if (o.reported) o.local = undefined
      if (o.pending && !o.local && !o.sent) this.send(o)
    }
    if (![...this.open.values()].some((o) => o.local)) this.local = undefined
  }

  divergent(): boolean {
    return this.diverged || [...this.open.values()].some((o) => o.local && !o.reported)
  }

  /**
   * Renews this instance's leases, releases the settled reservations its ledger now holds, and
   * every second settles the reservations of instances that died.
   */
  async tick(): Promise<void> {
    await this.confirmSettled()
    let ids: string[] = []
    for (const o of this.open.values()) {
      if (o.local) continue
      if (o.pending && !o.sent) this.send(o)
      ids.push(o.id)
      if (ids.length >= RENEW_BATCH) {
        await this.link.run(RENEW, [this.leases], [this.link.leaseMs, ...ids])
        ids = []
      }
    }
    if (ids.length) await this.link.run(RENEW, [this.leases], [this.link.leaseMs, ...ids])
    if (++this.ticks % 4 === 0) await this.sweep()
  }

  /** Settlements this instance's ledger now holds durably leave Redis. */
  private async confirmSettled(): Promise<void> {
    const settled = [...this.open.values()].filter((o) => o.settled)
    if (!settled.length) return
    await this.spend.ledger.flush()
    for (let i = 0; i < settled.length; i += RENEW_BATCH) {
      await this.link.run(CONFIRM, [this.leases], [this.link.prefix, ...settled.slice(i, i + RENEW_BATCH).map((o) => o.id)])
    }
    for (const o of settled) if (o.settled) this.open.delete(o.id)
  }

  private async sweep(): Promise<void> {
    const rule = this.spend.config.limits.crash_recovery
    const r = (await this.link.run(SWEEP, [this.link.readyKey, this.leases], [rule, SWEEP_BATCH, this.link.prefix])) as string[]
    if (!r.length) return
    const swept: string[] = []
    const settled = new Map<string, number>()
    for (let i = 0; i < r.length; i += 3) {
      if (r[i + 1] === 'settled') settled.set(r[i]!, Number(r[i + 2]))
      else swept.push(r[i]!)
    }
    await recoverSwept(this.spend.db, swept, settled, rule, this.spend.clock(), this.log)
  }

  private async deleteMatching(pattern: string): Promise<void> {
    const escaped = pattern.replace(/[?[\]\\]/g, '\\$&').replace(/\*(?!$)/g, '\\*')
    let cursor = '0'
    do {
      const [next, keys] = await this.link.cmd.scan(cursor, 'MATCH', escaped, 'COUNT', 1000)
      cursor = next
      if (keys.length) await this.link.cmd.del(...keys)
    } while (cursor !== '0')
  }
}
