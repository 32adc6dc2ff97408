/** Users: everyone sees themself; project admins see their projects' people; org admins manage all. */
import { and, eq, isNull } from 'drizzle-orm'
import { Type } from '@sinclair/typebox'
import { apiKeys } from '../db/schema'
import { adminIdentities, adminMemberships, adminUsers } from '../db/schema-admin'
import { audit } from './audit'
import { canSeeUser, requireOrgAdmin, type Principal } from './authz'
import type { AdminContext } from './context'
import type { UserView } from './directory'
import { conflict, forbidden, notFound, readOnly } from './errors'
import { doc, json, type AdminApi } from './api'
import { Id, LimitsOut, Nullable, OrgRole, ProjectRole, Source, limitsOut } from './schemas'
import { endSessionsOf } from './session'

const User = Type.Object({
  id: Type.String(),
  email: Nullable(Type.String()),
  name: Nullable(Type.String()),
  role: OrgRole,
  source: Source,
  limits: LimitsOut,
  projects: Type.Array(Type.Object({ id: Type.String(), role: ProjectRole, source: Source })),
  created_at: Nullable(Type.Integer()),
  last_seen_at: Nullable(Type.Integer()),
})

function view(ctx: AdminContext, p: Principal, u: UserView) {
  return {
    id: u.id,
    email: u.email ?? null,
    name: u.name ?? null,
    role: u.role,
    source: u.source,
    limits: limitsOut(u.limits),
    // A project admin sees only the memberships in projects they can see.
    projects: ctx.dir
      .membershipsOf(u.id)
      .filter((m) => p.orgAdmin || p.projects.has(m.project))
      .map((m) => ({ id: m.project, role: m.role, source: m.source })),
    created_at: u.createdAt ?? null,
    last_seen_at: u.lastSeenAt ?? null,
  }
}

export function visibleUser(ctx: AdminContext, p: Principal, id: string): UserView {
  const u = ctx.dir.user(id)
  if (!u || !canSeeUser(p, ctx.dir, id)) throw notFound('user')
  return u
}

export function userRoutes(api: AdminApi): void {
  api.get(
    '/users',
    ({ ctx, p }) => ({
      users: ctx.dir
        .users()
        .filter((u) => canSeeUser(p, ctx.dir, u.id))
        .map((u) => view(ctx, p, u)),
    }),
    doc('users', 'Users the caller can see', Type.Object({ users: Type.Array(User) })),
  )

  api.post(
    '/users',
    async ({ ctx, p, body }) => {
      requireOrgAdmin(p)
      if (ctx.dir.idTaken('user', body.id)) throw conflict(`A user with id "${body.id}" already exists.`)
      if (body.email && ctx.dir.userByEmail(body.email)) throw conflict('A user with this email already exists.')
      await ctx.db.insert(adminUsers).values({ id: body.id, email: body.email?.toLowerCase(), name: body.name, role: body.role ?? 'member', createdAt: ctx.now() })
      await audit(ctx, p, 'user.create', 'user', body.id, undefined, { email: body.email, role: body.role ?? 'member' })
      await ctx.dir.reload()
      return view(ctx, p, ctx.dir.user(body.id)!)
    },
    {
      ...json(Type.Object({ id: Id, email: Type.Optional(Type.String({ format: 'email', maxLength: 320, pattern: '^[^@\\s]+@[^@\\s]+$' })), name: Type.Optional(Type.String({ maxLength: 200 })), role: Type.Optional(OrgRole) }, { additionalProperties: false })),
      ...doc('users', 'Pre-register a user (org admin); they are bound to their identity when they first sign in with this verified email', User, 201),
    },
  )

  api.get('/users/:id', ({ ctx, p, params }) => view(ctx, p, visibleUser(ctx, p, params.id)), doc('users', 'One user', User))

  api.patch(
    '/users/:id',
    async ({ ctx, p, params, body }) => {
      const u = visibleUser(ctx, p, params.id)
      requireOrgAdmin(p)
      if (u.source === 'config') throw readOnly('User', u.id)
      if (body.role !== undefined && u.id === p.userId && body.role !== u.role) throw forbidden('You cannot change your own organisation role.')
      const set: Partial<typeof adminUsers.$inferInsert> = {}
      if (body.name !== undefined) set.name = body.name
      if (body.role !== undefined) set.role = body.role
      if (Object.keys(set).length) await ctx.db.update(adminUsers).set(set).where(eq(adminUsers.id, u.id))
      await audit(ctx, p, 'user.update', 'user', u.id, undefined, body)
      await ctx.dir.reload()
      return view(ctx, p, ctx.dir.user(u.id)!)
    },
    {
      ...json(Type.Object({ name: Type.Optional(Nullable(Type.String({ maxLength: 200 }))), role: Type.Optional(OrgRole) }, { additionalProperties: false })),
      ...doc('users', "Change a user's name, email or organisation role (org admin)", User),
    },
  )

  api.delete(
    '/users/:id',
    async ({ ctx, p, params }) => {
      const u = visibleUser(ctx, p, params.id)
      requireOrgAdmin(p)
      if (u.source === 'config') throw readOnly('User', u.id)
      if (u.id === p.userId) throw forbidden('You cannot remove yourself.')
      const now = ctx.now()
      await ctx.db.batch([
        ctx.db.update(apiKeys).set({ revokedAt: now }).where(and(eq(apiKeys.user, u.id), isNull(apiKeys.revokedAt))),
        ctx.db.delete(adminMemberships).where(eq(adminMemberships.userId, u.id)),
        ctx.db.delete(adminIdentities).where(eq(adminIdentities.userId, u.id)),
        ctx.db.delete(adminUsers).where(eq(adminUsers.id, u.id)),
      ])
      await endSessionsOf(ctx, u.id)
      await audit(ctx, p, 'user.delete', 'user', u.id)
      await ctx.dir.reload()
      await ctx.keysChanged()
      return { ok: true }
    },
    doc('users', 'Remove a user: memberships, sessions and sign-in go, their keys are revoked (org admin)'),
  )
}
