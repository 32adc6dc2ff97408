/**
 * Spend per scope and window, as `tollgate spend` prints it and `GET /v1/spend` serves it:
 * spent, reserved, limit, remaining and reset time. The same shape whether the numbers come
 * from the live budget (the server) or from the ledger (the CLI).
 */
import type { Config } from '../config/schema'
import { type Budget, type LimitNanos, type ScopeKind, scopeKey } from './budget'
import { nanosToUsdString } from './money'
import type { WindowKind } from './windows'

export interface ScopeRef {
  kind: Exclude<ScopeKind, 'credits'>
  id: string
  project?: string
  user?: string
  limits: LimitNanos
}

export interface SpendLine {
  scope: ScopeRef['kind']
  id: string
  window: WindowKind
  spent_usd: string
  reserved_usd: string
  limit_usd: string | null
  remaining_usd: string | null
  resets_at: string | null
  spent_nanos: number
  reserved_nanos: number
  limit_nanos: number | null
}

export interface ReportFilter {
  project?: string
  user?: string
  key?: string
  window?: WindowKind
}

export function spendLines(budget: Budget, scopes: ScopeRef[], windows: WindowKind[]): SpendLine[] {
  const out: SpendLine[] = []
  const now = budget.now()
  for (const s of scopes) {
    const st = budget.state(scopeKey(s.kind, s.id), now)
    for (const k of windows) {
      const w = st.windows[k]
      const limit = s.limits[k]
      out.push({
        scope: s.kind,
        id: s.id,
        window: k,
        spent_usd: nanosToUsdString(w.spent),
        reserved_usd: nanosToUsdString(w.reserved),
        limit_usd: limit === undefined ? null : nanosToUsdString(limit),
        remaining_usd: limit === undefined ? null : nanosToUsdString(Math.max(0, limit - w.spent - w.reserved)),
        resets_at: Number.isFinite(w.end) ? new Date(w.end).toISOString() : null,
        spent_nanos: w.spent,
        reserved_nanos: w.reserved,
        limit_nanos: limit ?? null,
      })
    }
  }
  return out
}

/** Projects and users from config, and the given keys, narrowed by the filter. */
export function scopesFor(config: Config, keys: ScopeRef[], f: ReportFilter, nanos: (l: Config['projects'][number]['limits']) => LimitNanos): ScopeRef[] {
  const out: ScopeRef[] = []
  if (!f.key) {
    for (const p of config.projects) if (!f.user && (!f.project || p.id === f.project)) out.push({ kind: 'project', id: p.id, limits: nanos(p.limits) })
    for (const u of config.users) {
      if (f.user && u.id !== f.user) continue
      if (f.project && !u.projects?.includes(f.project)) continue
      out.push({ kind: 'user', id: u.id, limits: nanos(u.limits) })
    }
  }
  for (const k of keys) {
    if (f.key && k.id !== f.key) continue
    if (f.project && k.project !== f.project) continue
    if (f.user && k.user !== f.user) continue
    out.push(k)
  }
  return out
}

export const WINDOW_NAMES: Record<string, WindowKind> = { day: 'day', week: 'week', month: 'month', total: 'total' }
