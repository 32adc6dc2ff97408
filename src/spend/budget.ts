/**
 * The budget state, in memory, for one process: per scope (key, user, project, a project's
 * credits) and per window, what is spent and what is reserved, and how many requests are
 * in flight. Every check-and-reserve runs synchronously, with no await between the check and
 * the reservation, so concurrent requests cannot both take the last of a budget.
 * Durability comes from the ledger (ledger.ts); this state is rebuilt from it at start.
 * The interface (tryReserve / settle / charge) is what a shared limiter would implement too.
 */
import { type Clock, type WindowKind, WINDOWS, windowAt } from './windows'

export type ScopeKind = 'key' | 'user' | 'project' | 'credits'
/** Limits of one scope in nano-dollars, per window; absent means unlimited. */
export type LimitNanos = Partial<Record<WindowKind, number>>

export interface ScopeLimit {
  kind: ScopeKind
  id: string
  limits: LimitNanos
}

export interface WindowState {
  start: number
  end: number
  spent: number
  reserved: number
}

export interface ScopeState {
  windows: Record<WindowKind, WindowState>
  inflight: number
}

export interface Reservation {
  scopes: string[]
  amount: number
  /** The window starts at reservation time; the settlement lands in these windows. */
  starts: Record<WindowKind, number>
}

export interface Denial {
  scope: ScopeLimit
  window: WindowKind
  limit: number
  spent: number
  reserved: number
  /** When the window resets (Infinity for total and credits). */
  resetsAt: number
}

export function scopeKey(kind: ScopeKind, id: string): string {
  return `${kind}:${id}`
}

type Spans = Record<WindowKind, { start: number; end: number }>

export class Budget {
  private scopes = new Map<string, ScopeState>()
  private spans: Spans | undefined

  constructor(
    private zone: string,
    private readonly clock: Clock,
  ) {}

  /** A new zone changes every window; counters must then be rebuilt from the ledger. */
  setZone(zone: string): void {
    this.zone = zone
    this.spans = undefined
  }

  now(): number {
    return this.clock()
  }

  /** The windows `t` falls in (cached until the shortest one ends). */
  spansAt(t: number): Spans {
    const s = this.spans
    if (s && t >= s.day.start && t < s.day.end && t >= s.week.start && t < s.week.end && t >= s.month.start && t < s.month.end) return s
    const fresh = {} as Spans
    for (const k of WINDOWS) fresh[k] = windowAt(k, t, this.zone)
    if (t >= this.clock() - 1000) this.spans = fresh
    return fresh
  }

  /** The scope's state with its windows rolled forward to now. */
  state(key: string, now = this.clock()): ScopeState {
    let st = this.scopes.get(key)
    if (!st) {
      const spans = this.spansAt(now)
      const w = {} as Record<WindowKind, WindowState>
      for (const k of WINDOWS) w[k] = { start: spans[k].start, end: spans[k].end, spent: 0, reserved: 0 }
      st = { windows: w, inflight: 0 }
      this.scopes.set(key, st)
      return st
    }
    for (const k of WINDOWS) {
      const w = st.windows[k]
      if (now >= w.end || now < w.start) {
        const span = this.spansAt(now)[k]
        // A new window starts empty; reservations still open settle into the one they came from.
        st.windows[k] = { start: span.start, end: span.end, spent: 0, reserved: 0 }
      }
    }
    return st
  }

  /**
   * Admits and reserves `amount` on every scope at once, or names the first limit in the way.
   * Admitted while spent + reserved + amount ≤ limit; when that does not fit but budget
   * remains, admitted only if nothing else is in flight on that scope (so the overshoot
   * stays within one request).
   */
  tryReserve(scopes: ScopeLimit[], amount: number): Reservation | Denial {
    const now = this.clock()
    const keys = scopes.map((s) => scopeKey(s.kind, s.id))
    const states = keys.map((k) => this.state(k, now))
    for (let i = 0; i < scopes.length; i++) {
      const s = scopes[i]!
      const st = states[i]!
      for (const k of WINDOWS) {
        const limit = s.limits[k]
        if (limit === undefined) continue
        const w = st.windows[k]
        if (w.spent + w.reserved + amount <= limit) continue
        if (w.spent + w.reserved < limit && st.inflight === 0) continue
        return { scope: s, window: k, limit, spent: w.spent, reserved: w.reserved, resetsAt: w.end }
      }
    }
    const spans = this.spansAt(now)
    const starts = { day: spans.day.start, week: spans.week.start, month: spans.month.start, total: 0 }
    for (const st of states) {
      st.inflight++
      for (const k of WINDOWS) st.windows[k].reserved += amount
    }
    return { scopes: keys, amount, starts }
  }

  /** Ends a reservation: its amount leaves `reserved`, the cost joins `spent`, in the windows it reserved in. */
  settle(r: Reservation, cost: number, freeOn?: string): void {
    const now = this.clock()
    for (const key of r.scopes) {
      const st = this.state(key, now)
      st.inflight--
      for (const k of WINDOWS) {
        const w = st.windows[k]
        if (w.start !== r.starts[k]) continue
        w.reserved -= r.amount
        // `freeOn`: a scope reserved on but not charged (credits, when the answer came from a BYOK provider).
        if (key !== freeOn) w.spent += cost
      }
    }
  }

  /** Spend without a reservation (usage on a free-classed request, a recovered crash row), at instant `ts`. */
  charge(scopes: string[], cost: number, ts: number): void {
    const now = this.clock()
    const spans = this.spansAt(ts)
    for (const key of scopes) {
      const st = this.state(key, now)
      for (const k of WINDOWS) if (st.windows[k].start === spans[k].start) st.windows[k].spent += cost
    }
  }

  /** Sets a window's spent amount (loading from the ledger at start). */
  load(key: string, kind: WindowKind, spent: number): void {
    this.state(key).windows[kind].spent = spent
  }

  /** Every scope seen so far. */
  keys(): string[] {
    return [...this.scopes.keys()]
  }

  clear(): void {
    this.scopes.clear()
    this.spans = undefined
  }
}

export function isDenial(r: Reservation | Denial): r is Denial {
  return 'window' in r
}
