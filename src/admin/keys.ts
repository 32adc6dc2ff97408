/**
 * Gateway keys through the admin API. They live in the same `api_keys` table as CLI keys, so
 * the proxy's KeyStore serves them at once; the secret is in the create answer only.
 * Keys from config.toml are listed read-only.
 */
import { and, desc, eq, inArray, isNull, max, sql } from 'drizzle-orm'
import { Type } from '@sinclair/typebox'
import { generateKey } from '../auth/key-format'
import { apiKeys, requestLog } from '../db/schema'
import { audit } from './audit'
import { canSeeKey, canSeeProject, isProjectAdmin, type KeyOwner, type Principal } from './authz'
import type { AdminContext } from './context'
import { badRequest, forbidden, notFound, readOnly } from './errors'
import { LimitsNanos, WINDOWS, columnsToNanos, limitsPatch, limitsToNanos } from './money'
import { doc, json, type AdminApi } from './api'
import { Id, LimitsOut, Nullable, Source } from './schemas'
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

function fromRow(r: KeyRow): KeyInfo {
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

function configKeys(ctx: AdminContext): KeyInfo[] {
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

const Key = Type.Object({
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

async function views(ctx: AdminContext, keys: KeyInfo[]) {
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

export async function visibleKey(ctx: AdminContext, p: Principal, id: string): Promise<KeyInfo> {
  const k = await findKey(ctx, id)
  if (!k || !ctx.dir.project(k.project) || !canSeeKey(p, k)) throw notFound('key')
  return k
}

/** A member's key limits may not exceed their own or their project's limits ("within the caps"). */
function checkCaps(ctx: AdminContext, project: string, userId: string | undefined, limits: LimitsNanos): void {
  const caps = [limitsToNanos(ctx.dir.project(project)?.limits), limitsToNanos(userId ? ctx.dir.user(userId)?.limits : undefined)]
  for (const w of WINDOWS) {
    const field = `${w}_nanos` as const
    const v = limits[field]
    if (v === undefined || v === null) continue
    for (const cap of caps) {
      const c = cap[field]
      if (c !== null && v > c) throw badRequest(`limits.${field}: at most ${c} (your cap); ask a project admin for more`)
    }
  }
}

export function keyRoutes(api: AdminApi): void {
  api.get(
    '/keys',
    async ({ ctx, p, query }) => {
      if (query.project !== undefined && (!ctx.dir.project(query.project) || !canSeeProject(p, query.project))) throw notFound('project')
      const rows = await ctx.db
        .select()
        .from(apiKeys)
        .where(and(query.project ? eq(apiKeys.project, query.project) : undefined, query.user ? eq(apiKeys.user, query.user) : undefined, query.include_revoked ? undefined : isNull(apiKeys.revokedAt)))
        .orderBy(desc(apiKeys.createdAt))
      const all = [...configKeys(ctx).filter((k) => (!query.project || k.project === query.project) && (!query.user || k.user === query.user)), ...rows.map(fromRow)]
      return { keys: await views(ctx, all.filter((k) => ctx.dir.project(k.project) && canSeeKey(p, k))) }
    },
    {
      query: Type.Object({ project: Type.Optional(Type.String()), user: Type.Optional(Type.String()), include_revoked: Type.Optional(Type.Boolean()) }),
      ...doc('keys', 'Keys the caller can see, with spend against their limits', Type.Object({ keys: Type.Array(Key) })),
    },
  )

  api.post(
    '/keys',
    async ({ ctx, p, body }) => {
      if (!ctx.dir.project(body.project) || !canSeeProject(p, body.project)) throw notFound('project')
      const user = body.user === undefined ? p.userId : (body.user ?? undefined)
      const admin = isProjectAdmin(p, body.project)
      if (!admin) {
        // Members: personal keys only, for themself.
        if (!user || user !== p.userId) throw forbidden('Members can create personal keys only.')
        checkCaps(ctx, body.project, user, body.limits ?? {})
      } else if (user && !ctx.dir.membersOf(body.project).some((m) => m.userId === user)) {
        if (!ctx.dir.user(user)) throw badRequest(`user: unknown user "${user}"`)
        throw badRequest(`user: "${user}" is not a member of project "${body.project}"`)
      }
      const reachable = ctx.dir.merged.projects.find((x) => x.id === body.project)?.providers
      for (const id of body.providers ?? []) {
        if (!ctx.dir.provider(id) || (reachable && !reachable.includes(id))) throw badRequest(`providers: unknown provider "${id}"`)
      }
      if (body.expires_at !== undefined && body.expires_at <= ctx.now()) throw badRequest('expires_at: must be in the future')
      const k = generateKey()
      await ctx.db.insert(apiKeys).values({
        id: k.id,
        name: body.name,
        project: body.project,
        user,
        keySha256: k.sha256,
        displayPrefix: k.displayPrefix,
        providers: body.providers,
        models: body.models,
        expiresAt: body.expires_at,
        createdAt: ctx.now(),
        ...limitsPatch(body.limits ?? {}),
      })
      await audit(ctx, p, 'key.create', 'key', k.id, body.project, { user, name: body.name, limits: body.limits, expires_at: body.expires_at })
      await ctx.keysChanged(k.id)
      const [row] = await ctx.db.select().from(apiKeys).where(eq(apiKeys.id, k.id))
      const [v] = await views(ctx, [fromRow(row!)])
      return { key: v!, secret: k.secret }
    },
    {
      ...json(Type.Object(
        {
          project: Id,
          user: Type.Optional(Nullable(Id)),
          name: Type.Optional(Type.String({ maxLength: 200 })),
          providers: Type.Optional(Type.Array(Id)),
          models: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }))),
          expires_at: Type.Optional(Type.Integer({ minimum: 0 })),
          limits: Type.Optional(LimitsNanos),
        },
        { additionalProperties: false },
      )),
      ...doc('keys', 'Create a gateway key. The secret is in this answer only. Members make personal keys; project admins also project keys and keys for members.', Type.Object({ key: Key, secret: Type.String() }), 201),
    },
  )

  api.get('/keys/:id', async ({ ctx, p, params }) => (await views(ctx, [await visibleKey(ctx, p, params.id!)]))[0], doc('keys', 'One key', Key))

  api.patch(
    '/keys/:id',
    async ({ ctx, p, params, body }) => {
      const k = await visibleKey(ctx, p, params.id!)
      if (k.source === 'config') throw readOnly('Key', k.id)
      // Only admins may extend an expiry; holders may shorten it or rename.
      if (body.expires_at !== undefined && !isProjectAdmin(p, k.project) && (body.expires_at === null || (k.expiresAt !== null && body.expires_at > k.expiresAt))) {
        throw forbidden('Only a project admin can extend a key\'s expiry.')
      }
      const set: Partial<typeof apiKeys.$inferInsert> = {}
      if (body.name !== undefined) set.name = body.name
      if (body.expires_at !== undefined) set.expiresAt = body.expires_at
      if (Object.keys(set).length) await ctx.db.update(apiKeys).set(set).where(eq(apiKeys.id, k.id))
      await audit(ctx, p, 'key.update', 'key', k.id, k.project, body)
      await ctx.keysChanged(k.id)
      return (await views(ctx, [(await findKey(ctx, k.id))!]))[0]
    },
    {
      ...json(Type.Object({ name: Type.Optional(Nullable(Type.String({ maxLength: 200 }))), expires_at: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))) }, { additionalProperties: false })),
      ...doc('keys', "Rename a key or change its expiry (its holder or a project admin); limits are under /limits", Key),
    },
  )

  api.post('/keys/:id/revoke', async ({ ctx, p, params }) => {
    const k = await visibleKey(ctx, p, params.id!)
    if (k.source === 'config') throw readOnly('Key', k.id)
    if (!k.revokedAt) {
      await ctx.db.update(apiKeys).set({ revokedAt: ctx.now() }).where(and(eq(apiKeys.id, k.id), isNull(apiKeys.revokedAt)))
      await audit(ctx, p, 'key.revoke', 'key', k.id, k.project)
      await ctx.keysChanged(k.id)
    }
    return (await views(ctx, [(await findKey(ctx, k.id))!]))[0]
  }, doc('keys', 'Revoke a key; the gateway refuses it from the next request', Key))
}
