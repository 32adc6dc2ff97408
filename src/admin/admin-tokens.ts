/** Admin tokens through the API (org admins): list, create (secret shown once), revoke. */
import { and, desc, eq, isNull } from 'drizzle-orm'
import { Type } from '@sinclair/typebox'
import { adminTokens } from '../db/schema-admin'
import { audit } from './audit'
import { requireOrgAdmin } from './authz'
import { badRequest, notFound } from './errors'
import { doc, json, type AdminApi } from './api'
import { Id, Nullable } from './schemas'
import { createAdminToken, TOKEN_ROLES } from './tokens'

const Role = Type.Union(TOKEN_ROLES.map((r) => Type.Literal(r)))
const Token = Type.Object({
  id: Type.String(),
  name: Nullable(Type.String()),
  role: Type.String(),
  project: Nullable(Type.String()),
  user: Nullable(Type.String()),
  created_at: Type.Integer(),
  expires_at: Nullable(Type.Integer()),
  last_used_at: Nullable(Type.Integer()),
  revoked_at: Nullable(Type.Integer()),
})

type Row = typeof adminTokens.$inferSelect
const view = (r: Row) => ({
  id: r.id,
  name: r.name,
  role: r.role,
  project: r.project,
  user: r.userId,
  created_at: r.createdAt,
  expires_at: r.expiresAt,
  last_used_at: r.lastUsedAt,
  revoked_at: r.revokedAt,
})

export function adminTokenRoutes(api: AdminApi): void {
  api.get(
    '/admin-tokens',
    async ({ ctx, p }) => {
      requireOrgAdmin(p)
      return { tokens: (await ctx.db.select().from(adminTokens).orderBy(desc(adminTokens.createdAt))).map(view) }
    },
    doc('admin-tokens', 'Admin tokens (org admin)', Type.Object({ tokens: Type.Array(Token) })),
  )

  api.post(
    '/admin-tokens',
    async ({ ctx, p, body }) => {
      requireOrgAdmin(p)
      if (body.role === 'project_admin' && (!body.project || !ctx.dir.project(body.project))) throw badRequest('project: a project_admin token needs an existing project')
      if (body.role === 'member' && (!body.user || !ctx.dir.user(body.user))) throw badRequest('user: a member token needs an existing user')
      const t = await createAdminToken(ctx.db, { role: body.role, name: body.name, project: body.project, userId: body.user, expiresAt: body.expires_at }, ctx.now())
      await audit(ctx, p, 'admin_token.create', 'admin_token', t.id, body.project, { role: body.role, name: body.name, user: body.user })
      const [row] = await ctx.db.select().from(adminTokens).where(eq(adminTokens.id, t.id))
      return { token: view(row!), secret: t.secret }
    },
    {
      ...json(Type.Object(
        { role: Role, name: Type.Optional(Type.String({ maxLength: 200 })), project: Type.Optional(Id), user: Type.Optional(Id), expires_at: Type.Optional(Type.Integer({ minimum: 0 })) },
        { additionalProperties: false },
      )),
      ...doc('admin-tokens', 'Create an admin token scoped to a role (org admin). The secret is in this answer only.', Type.Object({ token: Token, secret: Type.String() }), 201),
    },
  )

  api.delete(
    '/admin-tokens/:id',
    async ({ ctx, p, params }) => {
      requireOrgAdmin(p)
      const done = await ctx.db
        .update(adminTokens)
        .set({ revokedAt: ctx.now() })
        .where(and(eq(adminTokens.id, params.id), isNull(adminTokens.revokedAt)))
        .returning({ id: adminTokens.id })
      if (!done.length) throw notFound('admin token')
      await audit(ctx, p, 'admin_token.revoke', 'admin_token', params.id)
      return { ok: true }
    },
    doc('admin-tokens', 'Revoke an admin token (org admin)'),
  )
}
