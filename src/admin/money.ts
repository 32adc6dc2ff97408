/** Limits in the admin API are integer nano-dollars per window, like every amount of money here. */
import { Type, type Static } from '@sinclair/typebox'
import type { Limits } from '../config/schema'

const NANOS = 1_000_000_000
const Nanos = Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])

export const LimitsNanos = Type.Object(
  { daily_nanos: Type.Optional(Nanos), weekly_nanos: Type.Optional(Nanos), monthly_nanos: Type.Optional(Nanos), total_nanos: Type.Optional(Nanos) },
  { additionalProperties: false },
)
export type LimitsNanos = Static<typeof LimitsNanos>

export const WINDOWS = ['daily', 'weekly', 'monthly', 'total'] as const
export type Window = (typeof WINDOWS)[number]

/** Columns of a row with limit_*_nanos. */
export interface LimitColumns {
  limitDailyNanos: number | null
  limitWeeklyNanos: number | null
  limitMonthlyNanos: number | null
  limitTotalNanos: number | null
}

export function columnsToLimits(r: LimitColumns): Limits {
  const out: Limits = {}
  if (r.limitDailyNanos !== null) out.daily = r.limitDailyNanos / NANOS
  if (r.limitWeeklyNanos !== null) out.weekly = r.limitWeeklyNanos / NANOS
  if (r.limitMonthlyNanos !== null) out.monthly = r.limitMonthlyNanos / NANOS
  if (r.limitTotalNanos !== null) out.total = r.limitTotalNanos / NANOS
  return out
}

export function limitsToNanos(l: Limits | undefined): Required<{ [K in keyof LimitsNanos]: number | null }> {
  const n = (v: number | undefined) => (v === undefined ? null : Math.round(v * NANOS))
  return { daily_nanos: n(l?.daily), weekly_nanos: n(l?.weekly), monthly_nanos: n(l?.monthly), total_nanos: n(l?.total) }
}

/** The columns a PATCH of limits sets: absent fields stay, null clears. */
export function limitsPatch(p: LimitsNanos): Partial<LimitColumns> {
  const out: Partial<LimitColumns> = {}
  if (p.daily_nanos !== undefined) out.limitDailyNanos = p.daily_nanos
  if (p.weekly_nanos !== undefined) out.limitWeeklyNanos = p.weekly_nanos
  if (p.monthly_nanos !== undefined) out.limitMonthlyNanos = p.monthly_nanos
  if (p.total_nanos !== undefined) out.limitTotalNanos = p.total_nanos
  return out
}

export function columnsToNanos(r: LimitColumns) {
  return { daily_nanos: r.limitDailyNanos, weekly_nanos: r.limitWeeklyNanos, monthly_nanos: r.limitMonthlyNanos, total_nanos: r.limitTotalNanos }
}
