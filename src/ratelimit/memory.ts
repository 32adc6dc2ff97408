/**
 * Rate limits in memory, for one process (the default). Every check-and-count runs
 * synchronously, so concurrent requests cannot both take the last slot.
 *
 * Per scope: the requests of the last minute in admission order (rpm is their number, tpm
 * the sum of their tokens) and the requests in flight. In a cluster the same class is each
 * instance's shadow of its own admissions: with Redis down in "local" mode it enforces a 1/N
 * share (`divisor`), and after a Redis restart its entries are written back (src/cluster/).
 */
import { MINUTE_MS, scopeName, type RateDenial, type RateGrant, type RateLimiter, type RateScope } from './types'

interface Entry {
  id: string
  at: number
  tokens: number
  /** Still inside the minute (its tokens are in the scope's sum). */
  live: boolean
}

interface ScopeState {
  entries: Entry[]
  head: number
  tokens: number
  inflight: Set<string>
}

/** What a scope holds, for writing back into Redis. */
export interface ScopeExport {
  scope: string
  entries: { id: string; at: number; tokens: number }[]
  inflight: string[]
}

export class MemoryLimiter implements RateLimiter {
  private scopes = new Map<string, ScopeState>()
  private held = new WeakMap<RateGrant, Entry[]>()
  /** Each limit is divided by this (1 alone; N instances in "local" mode), never below 1. */
  divisor = 1

  constructor(private readonly clock: () => number = Date.now) {}

  acquire(id: string, scopes: RateScope[], tokens: number): RateGrant | RateDenial {
    const now = this.clock()
    const states = scopes.map((s) => this.state(scopeName(s), now))
    for (let i = 0; i < scopes.length; i++) {
      const denial = this.check(scopes[i]!, states[i]!, tokens, now)
      if (denial) return denial
    }
    return this.take(id, scopes, states, tokens, now)
  }

  /** Counts a request another limiter admitted (the cluster's shadow): no check. */
  record(id: string, scopes: RateScope[], tokens: number): RateGrant {
    const now = this.clock()
    return this.take(id, scopes, scopes.map((s) => this.state(scopeName(s), now)), tokens, now)
  }

  release(grant: RateGrant, used: number | undefined): void {
    const entries = this.held.get(grant)
    if (!entries) return
    this.held.delete(grant)
    grant.scopes.forEach((s, i) => {
      const st = this.scopes.get(scopeName(s))
      if (!st) return
      st.inflight.delete(grant.id)
      const e = entries[i]!
      if (used !== undefined && e.live) st.tokens += used - e.tokens
      if (used !== undefined) e.tokens = used
    })
  }

  /** Every scope's last minute and requests in flight. */
  export(): ScopeExport[] {
    const now = this.clock()
    const out: ScopeExport[] = []
    for (const [name, st] of this.scopes) {
      this.prune(st, now)
      out.push({ scope: name, entries: st.entries.slice(st.head).map((e) => ({ id: e.id, at: e.at, tokens: e.tokens })), inflight: [...st.inflight] })
    }
    return out
  }

  /** Requests in flight on one scope (tests, /ready). */
  inflight(kind: string, id: string): number {
    return this.scopes.get(`${kind}:${id}`)?.inflight.size ?? 0
  }

  private share(limit: number): number {
    return this.divisor <= 1 ? limit : Math.max(1, Math.floor(limit / this.divisor))
  }

  private check(s: RateScope, st: ScopeState, tokens: number, now: number): RateDenial | undefined {
    const { rpm, tpm, concurrency } = s.limits
    const count = st.entries.length - st.head
    if (rpm !== undefined) {
      const limit = this.share(rpm)
      if (count >= limit) {
        // The (count - limit + 1)-th oldest must leave the minute first.
        const e = st.entries[st.head + count - limit]!
        return { denied: true, scope: s, metric: 'rpm', limit, retryAfterMs: e.at + MINUTE_MS - now }
      }
    }
    if (concurrency !== undefined) {
      const limit = this.share(concurrency)
      if (st.inflight.size >= limit) return { denied: true, scope: s, metric: 'concurrency', limit, retryAfterMs: 1000 }
    }
    if (tpm !== undefined) {
      const limit = this.share(tpm)
      if (st.tokens + tokens > limit && !(st.tokens < limit && st.inflight.size === 0)) {
        return { denied: true, scope: s, metric: 'tpm', limit, retryAfterMs: this.tokensFreeIn(st, tokens, limit, now) }
      }
    }
    return undefined
  }

  /** When enough tokens leave the minute for `tokens` more to fit (or the minute to have room at all). */
  private tokensFreeIn(st: ScopeState, tokens: number, limit: number, now: number): number {
    let left = st.tokens
    for (let i = st.head; i < st.entries.length; i++) {
      const e = st.entries[i]!
      left -= e.tokens
      if (left + tokens <= limit || (tokens > limit && left < limit)) return e.at + MINUTE_MS - now
    }
    return MINUTE_MS
  }

  private take(id: string, scopes: RateScope[], states: ScopeState[], tokens: number, now: number): RateGrant {
    const entries: Entry[] = []
    for (const st of states) {
      const e: Entry = { id, at: now, tokens, live: true }
      st.entries.push(e)
      st.tokens += tokens
      st.inflight.add(id)
      entries.push(e)
    }
    const grant: RateGrant = { id, scopes, tokens, at: now }
    this.held.set(grant, entries)
    return grant
  }

  private state(name: string, now: number): ScopeState {
    let st = this.scopes.get(name)
    if (!st) this.scopes.set(name, (st = { entries: [], head: 0, tokens: 0, inflight: new Set() }))
    else this.prune(st, now)
    return st
  }

  private prune(st: ScopeState, now: number): void {
    const since = now - MINUTE_MS
    while (st.head < st.entries.length && st.entries[st.head]!.at <= since) {
      const e = st.entries[st.head++]!
      e.live = false
      st.tokens -= e.tokens
    }
    // Drop the consumed prefix now and then, so the array stays about one minute long.
    if (st.head > 1024 && st.head * 2 > st.entries.length) {
      st.entries = st.entries.slice(st.head)
      st.head = 0
    }
  }
}
