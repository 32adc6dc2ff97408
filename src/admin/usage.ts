/**
 * Spend and usage aggregates from the request log, scoped to what the caller may read, as
 * functions that tests call without HTTP; src/admin/usage-routes.ts puts them on routes.
 */
import { gte, lt, sql } from 'drizzle-orm'
import { Type, type Static } from '@sinclair/typebox'
import { t } from 'elysia'
import { requestLog } from '../db/schema'
import type { Principal } from './authz'
import type { AdminContext } from './context'
import { badRequest } from './errors'
import { findKey } from './key-view'
import { limitsToNanos } from './money'
import { LimitsOut, Nullable } from './schemas'
import { allOf, logScope, type ScopeFilter } from './scope'
import { localBucketStart, windowAt } from '../spend/windows'
import { windowStarts } from './windows'

const Totals = Type.Object({
  start: Type.Integer(),
  spend_nanos: Type.Integer(),
  requests: Type.Integer(),
  errors: Type.Integer(),
  input_tokens: Type.Integer(),
  output_tokens: Type.Integer(),
})

const ScopeQuery = {
  project: Type.Optional(Type.String()),
  user: Type.Optional(Type.String()),
  key: Type.Optional(Type.String()),
}

export const SummaryQuery = Type.Object(ScopeQuery)

export const SeriesQuery = Type.Object({
  ...ScopeQuery,
  // Elysia's t.Integer reads a query string's digits; TypeBox's Integer would not convert them.
  from: Type.Optional(t.Integer({ minimum: 0 })),
  to: Type.Optional(t.Integer({ minimum: 0 })),
  bucket: Type.Optional(Type.Union([Type.Literal('minute'), Type.Literal('hour'), Type.Literal('day')], { default: 'day' })),
  group: Type.Optional(Type.Union([Type.Literal('project'), Type.Literal('user'), Type.Literal('model'), Type.Literal('key'), Type.Literal('provider'), Type.Literal('none')], { default: 'none' })),
})

export const Summary = Type.Object({ day: Totals, week: Totals, month: Totals, limits: Nullable(LimitsOut) })

export const Series = Type.Object({
  bucket_ms: Type.Integer(),
  from: Type.Integer(),
  to: Type.Integer(),
  /** Every bucket's start, empty ones included (a day bucket starts at midnight in limits.timezone). */
  starts: Type.Array(Type.Integer()),
  /** `limits.timezone`: the zone day buckets follow, for labels. */
  timezone: Type.String(),
  points: Type.Array(
    Type.Object({
      t: Type.Integer(),
      group: Nullable(Type.String()),
      spend_nanos: Type.Integer(),
      requests: Type.Integer(),
      errors: Type.Integer(),
      avg_ms: Type.Number(),
      max_ms: Type.Integer(),
      input_tokens: Type.Integer(),
      output_tokens: Type.Integer(),
    }),
  ),
})

export type SeriesQuery = Static<typeof SeriesQuery>
export type Summary = Static<typeof Summary>
export type Series = Static<typeof Series>

const GROUPS = { project: requestLog.project, user: requestLog.user, model: requestLog.model, key: requestLog.keyId, provider: requestLog.provider } as const
const BUCKETS = { hour: 3_600_000, day: 86_400_000, minute: 60_000 } as const

/** The limits that hold the one scope a filter names, so the Overview can show spend against them. */
async function limitsFor(ctx: AdminContext, f: ScopeFilter) {
  if (f.key) return (await findKey(ctx, f.key))?.limits ?? null
  if (f.user && !f.project) return limitsToNanos(ctx.dir.user(f.user)?.limits)
  if (f.project && !f.user) return limitsToNanos(ctx.dir.project(f.project)?.limits)
  return null
}

/** Spend, requests, tokens and errors today, this week (from Monday) and this month, in limits.timezone (as the limits count them). */
export async function usageSummary(ctx: AdminContext, p: Principal, f: ScopeFilter): Promise<Summary> {
  const where = await logScope(ctx, p, f)
  const w = windowStarts(ctx.now(), ctx.config.limits.timezone)
  const since = Math.min(w.week, w.month)
  const win = (t: number) => ({
    spend: sql<number>`coalesce(sum(case when ${requestLog.ts} >= ${t} then ${requestLog.costNanos} end), 0)`,
    requests: sql<number>`coalesce(sum(case when ${requestLog.ts} >= ${t} then 1 else 0 end), 0)`,
    errors: sql<number>`coalesce(sum(case when ${requestLog.ts} >= ${t} and ${requestLog.status} >= 400 then 1 else 0 end), 0)`,
    input: sql<number>`coalesce(sum(case when ${requestLog.ts} >= ${t} then ${requestLog.inputTokens} end), 0)`,
    output: sql<number>`coalesce(sum(case when ${requestLog.ts} >= ${t} then ${requestLog.outputTokens} end), 0)`,
  })
  const cols = { d: win(w.day), w: win(w.week), m: win(w.month) }
  const [row] = await ctx.db
    .select({
      ds: cols.d.spend, dr: cols.d.requests, de: cols.d.errors, di: cols.d.input, do: cols.d.output,
      ws: cols.w.spend, wr: cols.w.requests, we: cols.w.errors, wi: cols.w.input, wo: cols.w.output,
      ms: cols.m.spend, mr: cols.m.requests, me: cols.m.errors, mi: cols.m.input, mo: cols.m.output,
    })
    .from(requestLog)
    .where(allOf([...where, gte(requestLog.ts, since)]))
  const t = (start: number, s: unknown, r: unknown, e: unknown, i: unknown, o: unknown) => ({
    start,
    spend_nanos: Number(s ?? 0),
    requests: Number(r ?? 0),
    errors: Number(e ?? 0),
    input_tokens: Number(i ?? 0),
    output_tokens: Number(o ?? 0),
  })
  return {
    day: t(w.day, row?.ds, row?.dr, row?.de, row?.di, row?.do),
    week: t(w.week, row?.ws, row?.wr, row?.we, row?.wi, row?.wo),
    month: t(w.month, row?.ms, row?.mr, row?.me, row?.mi, row?.mo),
    limits: await limitsFor(ctx, f),
  }
}

/** Spend, requests, errors and latency per time bucket (at most 2000), grouped by project, user, model, key or provider. */
export async function usageSeries(ctx: AdminContext, p: Principal, q: SeriesQuery): Promise<Series> {
  const where = await logScope(ctx, p, q)
  const bucketMs = BUCKETS[q.bucket ?? 'day']
  const to = q.to ?? ctx.now()
  const from = q.from ?? to - 14 * 86_400_000
  if (from >= to) throw badRequest('query.from: must be before query.to')
  if ((to - from) / bucketMs > 2000) throw badRequest('query: too many buckets (at most 2000); widen the bucket or narrow the range')
  // Days are the limits' days, midnight to midnight in limits.timezone (23 or 25 hours across a
  // DST change); minutes and hours are fixed widths, on that zone's wall clock.
  const zone = ctx.config.limits.timezone
  const starts = q.bucket === 'minute' || q.bucket === 'hour' ? fixedStarts(from, to, bucketMs, zone) : dayStarts(from, to, zone)
  const bucket = bucketOf(starts, bucketMs, q.bucket === 'minute' || q.bucket === 'hour')
  const groupCol = q.group && q.group !== 'none' ? GROUPS[q.group] : sql<string | null>`null`
  const rows = await ctx.db
    .select({
      t: bucket,
      group: groupCol,
      spend: sql<number>`coalesce(sum(${requestLog.costNanos}), 0)`,
      requests: sql<number>`count(*)`,
      errors: sql<number>`sum(case when ${requestLog.status} >= 400 then 1 else 0 end)`,
      avg: sql<number>`avg(${requestLog.durationMs})`,
      max: sql<number>`max(${requestLog.durationMs})`,
      input: sql<number>`coalesce(sum(${requestLog.inputTokens}), 0)`,
      output: sql<number>`coalesce(sum(${requestLog.outputTokens}), 0)`,
    })
    .from(requestLog)
    .where(allOf([...where, gte(requestLog.ts, from), lt(requestLog.ts, to)]))
    .groupBy(sql`1`, sql`2`)
    .orderBy(sql`1`)
  return {
    bucket_ms: bucketMs,
    from,
    to,
    starts,
    timezone: ctx.config.limits.timezone,
    points: rows.map((x) => ({
      t: Number(x.t),
      group: (x.group as string | null) ?? null,
      spend_nanos: Number(x.spend),
      requests: Number(x.requests),
      errors: Number(x.errors),
      avg_ms: Math.round(Number(x.avg) * 10) / 10,
      max_ms: Number(x.max),
      input_tokens: Number(x.input),
      output_tokens: Number(x.output),
    })),
  }
}

function fixedStarts(from: number, to: number, bucketMs: number, zone: string): number[] {
  const out: number[] = []
  for (let t = localBucketStart(from, bucketMs, zone); t < to; t += bucketMs) out.push(t)
  return out
}

function dayStarts(from: number, to: number, zone: string): number[] {
  const out: number[] = []
  for (let t = windowAt('day', from, zone).start; t < to; t = windowAt('day', t, zone).end) out.push(t)
  return out
}

/** Each row's bucket start, as SQL. Inlined integers: bound JS numbers arrive as REAL, and REAL division would not bucket. */
function bucketOf(starts: number[], bucketMs: number, fixed: boolean) {
  const int = (n: number) => sql.raw(String(Math.trunc(n)))
  if (fixed) return sql<number>`((${requestLog.ts} - ${int(starts[0]!)}) / ${int(bucketMs)}) * ${int(bucketMs)} + ${int(starts[0]!)}`
  // Days of uneven length: the last start at or before the row's time (rows are at or after the first).
  if (starts.length === 1) return sql<number>`${int(starts[0]!)}`
  const cases = starts.slice(1).map((next, i) => sql`when ${requestLog.ts} < ${int(next)} then ${int(starts[i]!)} `)
  return sql<number>`case ${sql.join(cases)}else ${int(starts.at(-1)!)} end`
}
