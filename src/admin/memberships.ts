/** Project members and their roles, managed by the project's admins. */
import { and, eq, isNull } from 'drizzle-orm'
import { Type } from '@sinclair/typebox'
import { apiKeys } from '../db/schema'
import { adminMemberships } from '../db/schema-admin'
import { audit } from './audit'
import { canSeeUser, requireProjectAdmin } from './authz'
import { conflict, forbidden, notFound, readOnly } from './errors'
import { doc, json, type AdminApi } from './api'
import { Id, Nullable, ProjectRole, Source } from './schemas'

const Member = Type.Object({ user: Type.String(), email: Nullable(Type.String()), role: ProjectRole, source: Source })

export function membershipRoutes(api: AdminApi): void {
  api.get(
    '/projects/:id/members',
    ({ ctx, p, params }) => {
      requireProjectAdmin(p, params.id, ctx.dir)
      return {
        members: ctx.dir.membersOf(params.id).map((m) => ({ user: m.userId, email: ctx.dir.user(m.userId)?.email ?? null, role: m.role, source: m.source })),
      }
    },
    doc('members', "A project's members (project admin)", Type.Object({ members: Type.Array(Member) })),
  )

  api.post(
    '/projects/:id/members',
    async ({ ctx, p, params, body }) => {
      const project = params.id
      requireProjectAdmin(p, project, ctx.dir)
      const u = ctx.dir.user(body.user)
      if (!u || !canSeeUser(p, ctx.dir, body.user)) throw notFound('user')
      if (ctx.dir.membersOf(project).some((m) => m.userId === body.user)) throw conflict('This user is already a member; change their role instead.')
      if (body.role === 'admin' && !p.orgAdmin && p.projects.get(project) !== 'admin') throw forbidden()
      await ctx.db.insert(adminMemberships).values({ project, userId: body.user, role: body.role, createdAt: ctx.now() })
      await audit(ctx, p, 'member.add', 'membership', `${project}/${body.user}`, project, { user: body.user, role: body.role })
      await ctx.dir.reload()
      return { user: u.id, email: u.email ?? null, role: body.role, source: 'db' as const }
    },
    {
      ...json(Type.Object({ user: Id, role: ProjectRole }, { additionalProperties: false })),
      ...doc('members', 'Add an existing user to a project (project admin; to add someone new, invite them)', Member, 201),
    },
  )

  api.patch(
    '/projects/:id/members/:user',
    async ({ ctx, p, params, body }) => {
      const project = params.id
      requireProjectAdmin(p, project, ctx.dir)
      const m = ctx.dir.membersOf(project).find((x) => x.userId === params.user)
      if (!m) throw notFound('member')
      if (m.source === 'config') throw readOnly('Membership', `${project}/${m.userId}`)
      if (m.userId === p.userId && !p.orgAdmin) throw forbidden('You cannot change your own role.')
      await ctx.db.update(adminMemberships).set({ role: body.role }).where(and(eq(adminMemberships.project, project), eq(adminMemberships.userId, m.userId)))
      await audit(ctx, p, 'member.role', 'membership', `${project}/${m.userId}`, project, { role: body.role })
      await ctx.dir.reload()
      return { user: m.userId, email: ctx.dir.user(m.userId)?.email ?? null, role: body.role, source: 'db' as const }
    },
    {
      ...json(Type.Object({ role: ProjectRole }, { additionalProperties: false })),
      ...doc('members', "Change a member's role (project admin)", Member),
    },
  )

  api.delete(
    '/projects/:id/members/:user',
    async ({ ctx, p, params }) => {
      const project = params.id
      requireProjectAdmin(p, project, ctx.dir)
      const m = ctx.dir.membersOf(project).find((x) => x.userId === params.user)
      if (!m) throw notFound('member')
      if (m.source === 'config') throw readOnly('Membership', `${project}/${m.userId}`)
      await ctx.db.batch([
        ctx.db.update(apiKeys).set({ revokedAt: ctx.now() }).where(and(eq(apiKeys.project, project), eq(apiKeys.user, m.userId), isNull(apiKeys.revokedAt))),
        ctx.db.delete(adminMemberships).where(and(eq(adminMemberships.project, project), eq(adminMemberships.userId, m.userId))),
      ])
      await audit(ctx, p, 'member.remove', 'membership', `${project}/${m.userId}`, project)
      await ctx.dir.reload()
      await ctx.keysChanged()
      return { ok: true }
    },
    doc('members', "Remove a member; their personal keys in this project are revoked (project admin)"),
  )
}

