/**
 * Circuit breakers, one per provider. After `failures` failed attempts in a row a provider is
 * skipped for `cooldown_ms`; then exactly one request may probe it. The probe's success closes
 * the breaker, its failure opens it for another cool-down. The clock is injectable so tests
 * need not wait. `snapshot()` is what metrics read.
 *
 * A burst is one signal: a failure of an attempt that started before the last verdict (success
 * or failure) was observed says nothing that verdict did not, so it is not counted again. Five
 * streams that fail at once are one failure, not five in a row.
 */
import type { ProviderConfig } from '../config/schema'

export const DEFAULT_BREAKER = { failures: 5, cooldownMs: 30_000 }

/** Stream cuts this close to the last counted failure are one burst. */
const LATE_BURST_MS = 1000

export type BreakerState = 'closed' | 'open' | 'half_open'

export interface BreakerSnapshot {
  provider: string
  state: BreakerState
  consecutiveFailures: number
  /** Epoch ms when it last opened, while open or half-open. */
  openedAt?: number
  /** Epoch ms when the next probe may go, while open. */
  retryAt?: number
  /** A probe request is in flight. */
  probing: boolean
}

/** What an attempt holds while it runs; report once with its verdict (or `cancel`). */
export interface BreakerPermit {
  success(): void
  failure(): void
  /** No verdict (the client left); a probe slot goes back. */
  cancel(): void
}

export class CircuitBreaker {
  failures = DEFAULT_BREAKER.failures
  cooldownMs = DEFAULT_BREAKER.cooldownMs
  private consecutive = 0
  private openedAt: number | undefined
  private probing = false
  /** When the last verdict was observed (this.now()). */
  private lastVerdictAt = -Infinity
  private lastFailureAt = -Infinity

  constructor(
    readonly provider: string,
    private readonly now: () => number,
  ) {}

  state(at = this.now()): BreakerState {
    if (this.openedAt === undefined) return 'closed'
    return at >= this.openedAt + this.cooldownMs ? 'half_open' : 'open'
  }

  /** Whether a request could go now (does not take the probe slot). */
  allows(): boolean {
    const s = this.state()
    return s === 'closed' || (s === 'half_open' && !this.probing)
  }

  /** Takes permission to try this provider now, or undefined to skip it. */
  acquire(): BreakerPermit | undefined {
    const s = this.state()
    if (s === 'open' || (s === 'half_open' && this.probing)) return undefined
    const probe = s === 'half_open'
    if (probe) this.probing = true
    const startedAt = this.now()
    let done = false
    const once = (f: () => void) => () => {
      if (done) return
      done = true
      if (probe) this.probing = false
      f()
    }
    return { success: once(() => this.onSuccess()), failure: once(() => this.onFailure(probe, startedAt)), cancel: once(() => {}) }
  }

  /**
   * A committed response later failed (a stream cut mid-way): counts as one more failure. Cuts
   * within a second of the last counted failure are the same burst (one upstream dying cuts all
   * its streams at once).
   */
  lateFailure(): void {
    if (this.now() - this.lastFailureAt < LATE_BURST_MS) return
    this.onFailure(false, this.now())
  }

  private onSuccess(): void {
    this.consecutive = 0
    this.openedAt = undefined
    this.lastVerdictAt = this.now()
  }

  private onFailure(probe: boolean, startedAt: number): void {
    // Part of a burst already counted (or older than a success since): no new signal. A probe always counts.
    if (!probe && startedAt < this.lastVerdictAt) return
    this.lastVerdictAt = this.lastFailureAt = this.now()
    this.consecutive++
    if (this.failures <= 0) return
    // A failed probe re-opens at once; otherwise open on the N-th failure in a row (not again while open).
    if (probe || (this.openedAt === undefined && this.consecutive >= this.failures)) this.openedAt = this.now()
  }

  snapshot(): BreakerSnapshot {
    const at = this.now()
    const state = this.state(at)
    return {
      provider: this.provider,
      state,
      consecutiveFailures: this.consecutive,
      openedAt: this.openedAt,
      retryAt: state === 'open' ? this.openedAt! + this.cooldownMs : undefined,
      probing: this.probing,
    }
  }
}

export class BreakerRegistry {
  private readonly breakers = new Map<string, CircuitBreaker>()

  constructor(readonly now: () => number = Date.now) {}

  /** Applies each provider's settings; a reload keeps the state of providers that remain. */
  configure(providers: ProviderConfig[]): void {
    const ids = new Set(providers.map((p) => p.id))
    for (const id of this.breakers.keys()) if (!ids.has(id)) this.breakers.delete(id)
    for (const p of providers) {
      const b = this.for(p.id)
      b.failures = p.circuit_breaker?.failures ?? DEFAULT_BREAKER.failures
      b.cooldownMs = p.circuit_breaker?.cooldown_ms ?? DEFAULT_BREAKER.cooldownMs
    }
  }

  for(provider: string): CircuitBreaker {
    let b = this.breakers.get(provider)
    if (!b) this.breakers.set(provider, (b = new CircuitBreaker(provider, this.now)))
    return b
  }

  snapshot(): BreakerSnapshot[] {
    return [...this.breakers.values()].map((b) => b.snapshot())
  }
}
