/**
 * Invitations: a link for one project and role, single use, expiring. Whoever redeems it
 * by signing in becomes a member with that role. Only the SHA-256 of the token is stored;
 * the link is shown once, to the admin who made it.
 */
import { and, desc, eq, gt, isNull } from 'drizzle-orm'
import { Type } from '@sinclair/typebox'
import { adminInvitations, adminMemberships } from '../db/schema-admin'
import { audit } from './audit'
import { requireProjectAdmin } from './authz'
import { publicBase, type AdminContext } from './context'
import { randomId, randomToken, sha256 } from './crypto'
import { notFound } from './errors'
import { doc, json, type AdminApi } from './api'
import { Nullable, ProjectRole } from './schemas'

const Invitation = Type.Object({
  id: Type.String(),
  project: Type.String(),
  role: ProjectRole,
  email: Nullable(Type.String()),
  created_by: Nullable(Type.String()),
  created_at: Type.Integer(),
  expires_at: Type.Integer(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('redeemed'), Type.Literal('expired'), Type.Literal('revoked')]),
  redeemed_by: Nullable(Type.String()),
})

type Row = typeof adminInvitations.$inferSelect

function view(r: Row, now: number) {
  const status = r.revokedAt ? 'revoked' : r.redeemedAt ? 'redeemed' : r.expiresAt <= now ? 'expired' : 'pending'
  return {
    id: r.id,
    project: r.project,
    role: r.role === 'admin' ? ('admin' as const) : ('member' as const),
    email: r.email,
    created_by: r.createdBy,
    created_at: r.createdAt,
    expires_at: r.expiresAt,
    status: status as 'pending' | 'redeemed' | 'expired' | 'revoked',
    redeemed_by: r.redeemedBy,
  }
}

/** A pending invitation for a presented token, or undefined. */
export async function pendingInvitation(ctx: AdminContext, token: string): Promise<Row | undefined> {
  if (!token.startsWith('tgi_') || token.length > 100) return undefined
  const [row] = await ctx.db
    .select()
    .from(adminInvitations)
    .where(and(eq(adminInvitations.tokenSha256, sha256(token)), isNull(adminInvitations.redeemedAt), isNull(adminInvitations.revokedAt), gt(adminInvitations.expiresAt, ctx.now())))
    .limit(1)
  return row
}

/**
 * Redeems an invitation for a signed-in user, exactly once: the conditional update is the
 * lock, so two browsers racing with one link give one membership.
 */
export async function redeemInvitation(ctx: AdminContext, id: string, userId: string, email: string | undefined): Promise<'ok' | 'gone' | 'wrong_email'> {
  const [inv] = await ctx.db.select().from(adminInvitations).where(eq(adminInvitations.id, id)).limit(1)
  if (!inv) return 'gone'
  if (inv.email && inv.email.toLowerCase() !== email?.toLowerCase()) return 'wrong_email'
  const now = ctx.now()
  const done = await ctx.db
    .update(adminInvitations)
    .set({ redeemedAt: now, redeemedBy: userId })
    .where(and(eq(adminInvitations.id, id), isNull(adminInvitations.redeemedAt), isNull(adminInvitations.revokedAt), gt(adminInvitations.expiresAt, now)))
    .returning({ id: adminInvitations.id })
  if (!done.length) return 'gone'
  const existing = ctx.dir.membersOf(inv.project).find((m) => m.userId === userId)
  if (!existing) {
    await ctx.db.insert(adminMemberships).values({ project: inv.project, userId, role: inv.role, createdAt: now })
  } else if (existing.source === 'db' && existing.role === 'member' && inv.role === 'admin') {
    await ctx.db.update(adminMemberships).set({ role: 'admin' }).where(and(eq(adminMemberships.project, inv.project), eq(adminMemberships.userId, userId)))
  }
  await audit(ctx, userId, 'invitation.redeem', 'invitation', id, inv.project, { role: inv.role })
  await ctx.dir.reload()
  return 'ok'
}

export function invitationRoutes(api: AdminApi): void {
  api.get(
    '/projects/:id/invitations',
    async ({ ctx, p, params }) => {
      requireProjectAdmin(p, params.id, ctx.dir)
      const rows = await ctx.db.select().from(adminInvitations).where(eq(adminInvitations.project, params.id)).orderBy(desc(adminInvitations.createdAt))
      return { invitations: rows.map((x) => view(x, ctx.now())) }
    },
    {
      ...doc('invitations', "A project's invitations (project admin)", Type.Object({ invitations: Type.Array(Invitation) })),
    },
  )

  api.post(
    '/projects/:id/invitations',
    async ({ ctx, p, params, body, request }) => {
      const project = params.id
      requireProjectAdmin(p, project, ctx.dir)
      const token = `tgi_${randomToken(32)}`
      const now = ctx.now()
      const row: Row = {
        id: randomId(12),
        tokenSha256: sha256(token),
        project,
        role: body.role,
        email: body.email?.toLowerCase() ?? null,
        createdBy: p.actor,
        createdAt: now,
        expiresAt: now + (body.expires_in_days ?? ctx.config.admin.invitation_days) * 86_400_000,
        redeemedAt: null,
        redeemedBy: null,
        revokedAt: null,
      }
      await ctx.db.insert(adminInvitations).values(row)
      await audit(ctx, p, 'invitation.create', 'invitation', row.id, project, { role: body.role, email: row.email, expires_at: row.expiresAt })
      return { invitation: view(row, now), url: `${publicBase(ctx.config, request)}/admin/invite?token=${token}` }
    },
    {
      ...json(Type.Object(
        {
          role: ProjectRole,
          email: Type.Optional(Type.String({ maxLength: 320, pattern: '^[^@\\s]+@[^@\\s]+$' })),
          expires_in_days: Type.Optional(Type.Number({ minimum: 0.01, maximum: 90 })),
        },
        { additionalProperties: false },
      )),
      ...doc('invitations', 'Invite someone to a project with a role (project admin). The link is in this answer only.', Type.Object({ invitation: Invitation, url: Type.String() }), 201),
    },
  )

  api.delete(
    '/invitations/:id',
    async ({ ctx, p, params }) => {
      const [row] = await ctx.db.select().from(adminInvitations).where(eq(adminInvitations.id, params.id)).limit(1)
      if (!row || !ctx.dir.project(row.project) || !(p.orgAdmin || p.projects.has(row.project))) throw notFound('invitation')
      requireProjectAdmin(p, row.project, ctx.dir)
      await ctx.db.update(adminInvitations).set({ revokedAt: ctx.now() }).where(and(eq(adminInvitations.id, row.id), isNull(adminInvitations.redeemedAt)))
      await audit(ctx, p, 'invitation.revoke', 'invitation', row.id, row.project)
      return { ok: true }
    },
    doc('invitations', 'Revoke a pending invitation (project admin)'),
  )
}
