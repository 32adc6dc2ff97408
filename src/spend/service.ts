/**
 * The spend service: prices, budget, ledger and credits together, for one process.
 * Start-up order: sweep reservations a crash left open, rebuild the budget from the ledger,
 * then start the batched ledger writer and the credit refresher.
 */
import { anyLimit, type KeyRecord } from '../auth/principal'
import type { Config, Limits, ProjectConfig, UserConfig } from '../config/schema'
import type { BatchWriter } from '../db/batch-writer'
import type { Db } from '../db/client'
import { Budget, type LimitNanos, type ScopeLimit, scopeKey } from './budget'
import { advanceCheckpoint } from './checkpoint'
import { loadCredits, loadSpent, loadTopups } from './counters'
import { LedgerWriter } from './ledger'
import { limitsToNanos } from './money'
import { Pricer } from './prices'
import { sweepOpenReservations, type SweepResult } from './recovery'
import type { Clock } from './windows'

/** How often the spend checkpoint moves on (src/spend/checkpoint.ts). */
const CHECKPOINT_EVERY_MS = 6 * 3_600_000

export interface SpendOptions {
  clock?: Clock
  /** How often new credit top-ups are read from the database (ms). */
  creditRefreshMs?: number
  log?: (line: string) => void
}

export class Spend {
  readonly budget: Budget
  readonly ledger: LedgerWriter
  readonly pricer: Pricer
  config: Config
  /** Sum of top-ups per project, nanos. */
  private topups = new Map<string, number>()
  private creditTimer: ReturnType<typeof setInterval> | undefined
  private checkpointTimer: ReturnType<typeof setInterval> | undefined
  private checkpointing: Promise<void> | undefined
  private limitCache = new WeakMap<Limits, LimitNanos>()
  lastSweep: SweepResult = { rows: 0, chargedNanos: 0 }

  private constructor(
    readonly db: Db,
    writer: BatchWriter,
    config: Config,
    readonly clock: Clock,
    private readonly log: (line: string) => void,
  ) {
    this.config = config
    this.budget = new Budget(config.limits.timezone, clock)
    this.ledger = new LedgerWriter(writer, config.limits.ledger_flush_ms)
    this.pricer = new Pricer(config.pricing)
  }

  static async open(db: Db, writer: BatchWriter, config: Config, opts: SpendOptions = {}): Promise<Spend> {
    const s = new Spend(db, writer, config, opts.clock ?? Date.now, opts.log ?? console.log)
    // In a cluster, rows may be other live instances' requests: the cluster sweeps once Redis says who lives (src/cluster/startup-sweep.ts).
    if (!config.cluster.redis_url) s.lastSweep = await sweepOpenReservations(db, config.limits.crash_recovery, s.clock(), s.log)
    await s.rebuild()
    s.ledger.start()
    const every = opts.creditRefreshMs ?? 2000
    s.creditTimer = setInterval(() => void s.refreshCredits().catch(() => {}), every)
    s.creditTimer.unref?.()
    // Off the request path (the query thread): the next start reads less of the ledger.
    void s.moveCheckpoint()
    s.checkpointTimer = setInterval(() => void s.moveCheckpoint(), CHECKPOINT_EVERY_MS)
    s.checkpointTimer.unref?.()
    return s
  }

  /** Folds the ledger's settled past into the spend checkpoint; one move at a time. */
  moveCheckpoint(): Promise<void> {
    this.checkpointing ??= advanceCheckpoint(this.db, this.clock())
      .then(
        () => {},
        (e) => this.log(`spend: moving the spend checkpoint failed (start-up will read more of the ledger): ${(e as Error).message}`),
      )
      .finally(() => (this.checkpointing = undefined))
    return this.checkpointing
  }

  /** Re-reads counters and credits from the ledger (start, or a new time zone). */
  async rebuild(): Promise<void> {
    await this.ledger.flush()
    this.budget.clear()
    await loadSpent(this.db, this.budget)
    const credits = await loadCredits(this.db)
    this.topups = new Map()
    for (const [project, c] of credits) {
      this.topups.set(project, c.topups)
      this.budget.load(scopeKey('credits', project), 'total', c.used)
    }
  }

  /** New top-ups from `tollgate credits add` (usage is this process's own). */
  async refreshCredits(): Promise<void> {
    for (const [project, topups] of await loadTopups(this.db)) this.topups.set(project, topups)
  }

  /** Applies a reloaded config: limits are read per request anyway; prices, zone and flush interval here. */
  configure(config: Config): void {
    const zoneChanged = config.limits.timezone !== this.config.limits.timezone
    this.config = config
    this.pricer.configure(config.pricing)
    this.ledger.setInterval(config.limits.ledger_flush_ms)
    if (zoneChanged) {
      this.budget.setZone(config.limits.timezone)
      void this.rebuild().catch((e) => this.log(`spend: rebuilding counters for the new time zone failed: ${(e as Error).message}`))
    }
  }

  /** Whether any spend limit or prepaid credits apply to the key, its user or its project (pricing.unknown_model = "limited"). */
  isLimited(key: KeyRecord, user: UserConfig | undefined, project: ProjectConfig | undefined): boolean {
    return anyLimit(key, user, project) || (this.topups.get(key.project) ?? 0) > 0
  }

  /** The scopes a request is held by: its key, its user (personal keys), its project, and its project's credits (managed providers). */
  scopesFor(key: KeyRecord, user: UserConfig | undefined, project: ProjectConfig | undefined, managed: boolean): ScopeLimit[] {
    const out: ScopeLimit[] = [{ kind: 'key', id: key.id, limits: this.nanos(key.limits) }]
    if (key.user) out.push({ kind: 'user', id: key.user, limits: this.nanos(user?.limits) })
    out.push({ kind: 'project', id: key.project, limits: this.nanos(project?.limits) })
    if (managed) out.push({ kind: 'credits', id: key.project, limits: { total: this.topups.get(key.project) ?? 0 } })
    return out
  }

  credits(project: string): { topups: number; used: number; reserved: number } {
    const w = this.budget.state(scopeKey('credits', project)).windows.total
    return { topups: this.topups.get(project) ?? 0, used: w.spent, reserved: w.reserved }
  }

  nanos(l: Limits | undefined): LimitNanos {
    if (!l) return {}
    let n = this.limitCache.get(l)
    if (!n) this.limitCache.set(l, (n = limitsToNanos(l)))
    return n
  }

  async stop(): Promise<void> {
    if (this.creditTimer) clearInterval(this.creditTimer)
    if (this.checkpointTimer) clearInterval(this.checkpointTimer)
    await this.checkpointing
    await this.ledger.stop()
  }
}
