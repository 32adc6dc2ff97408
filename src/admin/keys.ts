/**
 * Gateway keys through the admin API, as functions of (context, caller, input) that tests call
 * without HTTP; src/admin/key-routes.ts puts them on routes. Keys live in the same `api_keys`
 * table as CLI keys, so the proxy's KeyStore serves them at once; the secret is in the create
 * answer only. Keys from config.toml are listed read-only.
 */
import { and, desc, eq, isNull } from 'drizzle-orm'
import { Type, type Static } from '@sinclair/typebox'
import { generateKey } from '../auth/key-format'
import { apiKeys } from '../db/schema'
import { audit } from './audit'
import { canSeeKey, canSeeProject, isProjectAdmin, type Principal } from './authz'
import type { AdminContext } from './context'
import { badRequest, forbidden, notFound, readOnly } from './errors'
import { configKeys, findKey, fromRow, views, type KeyInfo, type KeyView } from './key-view'
import { LimitsNanos, WINDOWS, limitsPatch, limitsToNanos } from './money'
import { Id, Nullable } from './schemas'


export const KeyFilter = Type.Object({ project: Type.Optional(Type.String()), user: Type.Optional(Type.String()), include_revoked: Type.Optional(Type.Boolean()) })

export const NewKey = Type.Object(
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
)

export const KeyChange = Type.Object(
  { name: Type.Optional(Nullable(Type.String({ maxLength: 200 }))), expires_at: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))) },
  { additionalProperties: false },
)

export type KeyFilter = Static<typeof KeyFilter>
export type NewKey = Static<typeof NewKey>
export type KeyChange = Static<typeof KeyChange>

/** A key the caller may see; any other (or none) is the same 404. */
export async function visibleKey(ctx: AdminContext, p: Principal, id: string): Promise<KeyInfo> {
  const k = await findKey(ctx, id)
  if (!k || !ctx.dir.project(k.project) || !canSeeKey(p, k)) throw notFound('key')
  return k
}

/** Keys the caller can see, newest first, with spend against their limits. */
export async function listKeys(ctx: AdminContext, p: Principal, f: KeyFilter): Promise<KeyView[]> {
  if (f.project !== undefined && (!ctx.dir.project(f.project) || !canSeeProject(p, f.project))) throw notFound('project')
  const rows = await ctx.db
    .select()
    .from(apiKeys)
    .where(and(f.project ? eq(apiKeys.project, f.project) : undefined, f.user ? eq(apiKeys.user, f.user) : undefined, f.include_revoked ? undefined : isNull(apiKeys.revokedAt)))
    .orderBy(desc(apiKeys.createdAt))
  const all = [...configKeys(ctx).filter((k) => (!f.project || k.project === f.project) && (!f.user || k.user === f.user)), ...rows.map(fromRow)]
  return views(
    ctx,
    all.filter((k) => ctx.dir.project(k.project) && canSeeKey(p, k)),
  )
}

export async function getKey(ctx: AdminContext, p: Principal, id: string): Promise<KeyView> {
  return (await views(ctx, [await visibleKey(ctx, p, id)]))[0]!
}

/**
 * Members make personal keys for themselves, within their own and their project's limits;
 * project admins also project keys and keys for their members.
 */
export async function createKey(ctx: AdminContext, p: Principal, input: NewKey): Promise<{ key: KeyView; secret: string }> {
  if (!ctx.dir.project(input.project) || !canSeeProject(p, input.project)) throw notFound('project')
  const user = input.user === undefined ? p.userId : (input.user ?? undefined)
  if (!isProjectAdmin(p, input.project)) {
    if (!user || user !== p.userId) throw forbidden('Members can create personal keys only.')
    checkCaps(ctx, input.project, user, input.limits ?? {})
  } else if (user && !ctx.dir.membersOf(input.project).some((m) => m.userId === user)) {
    if (!ctx.dir.user(user)) throw badRequest(`user: unknown user "${user}"`)
    throw badRequest(`user: "${user}" is not a member of project "${input.project}"`)
  }
  const reachable = ctx.dir.merged.projects.find((x) => x.id === input.project)?.providers
  for (const id of input.providers ?? []) {
    if (!ctx.dir.provider(id) || (reachable && !reachable.includes(id))) throw badRequest(`providers: unknown provider "${id}"`)
  }
  if (input.expires_at !== undefined && input.expires_at <= ctx.now()) throw badRequest('expires_at: must be in the future')
  const k = generateKey()
  await ctx.db.insert(apiKeys).values({
    id: k.id,
    name: input.name,
    project: input.project,
    user,
    keySha256: k.sha256,
    displayPrefix: k.displayPrefix,
    providers: input.providers,
    models: input.models,
    expiresAt: input.expires_at,
    createdAt: ctx.now(),
    ...limitsPatch(input.limits ?? {}),
  })
  await audit(ctx, p, 'key.create', 'key', k.id, input.project, { user, name: input.name, limits: input.limits, expires_at: input.expires_at })
  await ctx.keysChanged(k.id)
  const [row] = await ctx.db.select().from(apiKeys).where(eq(apiKeys.id, k.id))
  const [v] = await views(ctx, [fromRow(row!)])
  return { key: v!, secret: k.secret }
}

/** Rename a key or change its expiry: its holder may shorten it, only a project admin extend it. */
export async function updateKey(ctx: AdminContext, p: Principal, id: string, input: KeyChange): Promise<KeyView> {
  const k = await visibleKey(ctx, p, id)
  if (k.source === 'config') throw readOnly('Key', k.id)
  if (input.expires_at !== undefined && !isProjectAdmin(p, k.project) && (input.expires_at === null || (k.expiresAt !== null && input.expires_at > k.expiresAt))) {
    throw forbidden("Only a project admin can extend a key's expiry.")
  }
  const set: Partial<typeof apiKeys.$inferInsert> = {}
  if (input.name !== undefined) set.name = input.name
  if (input.expires_at !== undefined) set.expiresAt = input.expires_at
  if (Object.keys(set).length) await ctx.db.update(apiKeys).set(set).where(eq(apiKeys.id, k.id))
  await audit(ctx, p, 'key.update', 'key', k.id, k.project, input)
  await ctx.keysChanged(k.id)
  return current(ctx, k.id)
}

/** Revokes a key (once; revoking again changes nothing); the gateway refuses it from the next request. */
export async function revokeKey(ctx: AdminContext, p: Principal, id: string): Promise<KeyView> {
  const k = await visibleKey(ctx, p, id)
  if (k.source === 'config') throw readOnly('Key', k.id)
  if (!k.revokedAt) {
    await ctx.db
      .update(apiKeys)
      .set({ revokedAt: ctx.now() })
      .where(and(eq(apiKeys.id, k.id), isNull(apiKeys.revokedAt)))
    await audit(ctx, p, 'key.revoke', 'key', k.id, k.project)
    await ctx.keysChanged(k.id)
  }
  return current(ctx, k.id)
}

async function current(ctx: AdminContext, id: string): Promise<KeyView> {
  return (await views(ctx, [(await findKey(ctx, id))!]))[0]!
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
