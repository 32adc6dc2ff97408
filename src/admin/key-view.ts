/**
 * Gateway keys as the admin API shows them: from the `api_keys` table (CLI and API keys alike)
 * and, read-only, from config.toml, with their status, spend and last use.
 */
import { eq, inArray, max, sql } from 'drizzle-orm'
import { Type, type Static } from '@sinclair/typebox'
import { apiKeys, requestLog } from '../db/schema'
import type { KeyOwner } from './authz'
import type { AdminContext } from './context'
import { columnsToNanos, limitsToNanos } from './money'
import { LimitsOut, Nullable, Source } from './schemas'
import { windowStarts } from './windows'

export interface KeyInfo extends KeyOwner {
  id: string
  name: string | null
  user: string | null
  source: 'config' | 'db'
  prefix: string | null
  providers: string[] | null
  models: string[] | null
  createdAt: number | null
  expiresAt: number | null
  revokedAt: number | null
  limits: ReturnType<typeof limitsToNanos>
}

type KeyRow = typeof apiKeys.$inferSelect

export function fromRow(r: KeyRow): KeyInfo {
  return {
    id: r.id,
    name: r.name,
    project: r.project,
    user: r.user,
    source: 'db',
    prefix: r.displayPrefix,
    providers: r.providers,
    models: r.models,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    revokedAt: r.revokedAt,
    limits: columnsToNanos(r),
  }
}

export function configKeys(ctx: AdminContext): KeyInfo[] {
  return ctx.config.keys.map((k) => ({
    id: k.id,
    name: k.name ?? null,
    project: k.project,
    user: k.user ?? null,
    source: 'config' as const,
    prefix: null,
    providers: k.providers ?? null,
    models: k.models ?? null,
    createdAt: null,
    expiresAt: k.expires ? Date.parse(k.expires) : null,
    revokedAt: null,
    limits: limitsToNanos(k.limits),
  }))
}

export async function findKey(ctx: AdminContext, id: string): Promise<KeyInfo | undefined> {
  const c = configKeys(ctx).find((k) => k.id === id)
  if (c) return c
  const [row] = await ctx.db.select().from(apiKeys).where(eq(apiKeys.id, id)).limit(1)
  return row ? fromRow(row) : undefined
}

const Spend = Type.Object({ day_nanos: Type.Integer(), week_nanos: Type.Integer(), month_nanos: Type.Integer(), total_nanos: Type.Integer() })

export const Key = Type.Object({
  id: Type.String(),
  name: Nullable(Type.String()),
  project: Type.String(),
  user: Nullable(Type.String()),
  source: Source,
  prefix: Nullable(Type.String()),
  providers: Nullable(Type.Array(Type.String())),
  models: Nullable(Type.Array(Type.String())),
  created_at: Nullable(Type.Integer()),
  expires_at: Nullable(Type.Integer()),
  revoked_at: Nullable(Type.Integer()),
  status: Type.Union([Type.Literal('active'), Type.Literal('revoked'), Type.Literal('expired')]),
  last_used_at: Nullable(Type.Integer()),
  limits: LimitsOut,
  spend: Spend,
})

/** Spend per key over the calendar windows, and when each was last used, from the request log. */
async function usageOf(ctx: AdminContext, ids: string[]) {
  const out = new Map<string, { spend: { day_nanos: number; week_nanos: number; month_nanos: number; total_nanos: number }; last: number | null }>()
  if (!ids.length) return out
  const w = windowStarts(ctx.now(), ctx.config.limits.timezone)
  const sumSince = (t: number) => sql<number>`coalesce(sum(case when ${requestLog.ts} >= ${t} then ${requestLog.costNanos} end), 0)`
  const rows = await ctx.db
    .select({
      key: requestLog.keyId,
      day: sumSince(w.day),
      week: sumSince(w.week),
      month: sumSince(w.month),
      total: sql<number>`coalesce(sum(${requestLog.costNanos}), 0)`,
      last: max(requestLog.ts),
    })
    .from(requestLog)
    .where(inArray(requestLog.keyId, ids))
    .groupBy(requestLog.keyId)
  for (const r of rows) {
    out.set(r.key!, { spend: { day_nanos: Number(r.day), week_nanos: Number(r.week), month_nanos: Number(r.month), total_nanos: Number(r.total) }, last: r.last })
  }
  return out
}

export type KeyView = Static<typeof Key>

/** Keys as the API shows them: status, spend and last use from the request log. */
export async function views(ctx: AdminContext, keys: KeyInfo[]): Promise<KeyView[]> {
  const usage = await usageOf(
    ctx,
    keys.map((k) => k.id),
  )
  const now = ctx.now()
  return keys.map((k) => {
    const u = usage.get(k.id)
    return {
      id: k.id,
      name: k.name,
      project: k.project,
      user: k.user,
      source: k.source,
      prefix: k.prefix,
      providers: k.providers,
      models: k.models,
      created_at: k.createdAt,
      expires_at: k.expiresAt,
      revoked_at: k.revokedAt,
      status: k.revokedAt ? ('revoked' as const) : k.expiresAt !== null && k.expiresAt <= now ? ('expired' as const) : ('active' as const),
      last_used_at: u?.last ?? null,
      limits: k.limits,
      spend: u?.spend ?? { day_nanos: 0, week_nanos: 0, month_nanos: 0, total_nanos: 0 },
    }
  })
}

