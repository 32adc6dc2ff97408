/** The audit log: who changed what, when. Details never hold a secret (ids, names, roles, limits). */
import { and, desc, eq, inArray, lt, or, type SQL } from 'drizzle-orm'
import { Type } from '@sinclair/typebox'
import { t } from 'elysia'
import { adminAudit } from '../db/schema-admin'
import type { AdminContext } from './context'
import { adminProjects, type Principal } from './authz'
import { randomToken } from './crypto'
import { doc, json, type AdminApi } from './api'

export async function audit(
  ctx: AdminContext,
  actor: Principal | string,
  action: string,
  objectType: string,
  objectId: string | undefined,
  project?: string,
  detail?: Record<string, unknown>,
): Promise<void> {
  await ctx.db.insert(adminAudit).values({
    id: randomToken(12),
    ts: ctx.now(),
    actor: typeof actor === 'string' ? actor : actor.actor,
    action,
    objectType,
    objectId,
    project,
    detail: detail ?? null,
  })
}

const AuditEntry = Type.Object({
  id: Type.String(),
  ts: Type.Integer(),
  actor: Type.String(),
  action: Type.String(),
  object_type: Type.String(),
  object_id: Type.Union([Type.String(), Type.Null()]),
  project: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Unknown(),
})

export function auditRoutes(api: AdminApi): void {
  api.get(
    '/audit',
    async ({ ctx, p, query }) => {
      const where: SQL[] = []
      const own = adminProjects(p)
      if (own !== undefined) {
        const mine = eq(adminAudit.actor, p.actor)
        where.push(own.length ? or(mine, inArray(adminAudit.project, own))! : mine)
      }
      if (query.project) where.push(eq(adminAudit.project, query.project))
      if (query.actor) where.push(eq(adminAudit.actor, query.actor))
      if (query.before) where.push(lt(adminAudit.ts, query.before))
      const rows = await ctx.db
        .select()
        .from(adminAudit)
        .where(where.length ? and(...where) : undefined)
        .orderBy(desc(adminAudit.ts))
        .limit(query.limit ?? 100)
      return {
        entries: rows.map((r) => ({ id: r.id, ts: r.ts, actor: r.actor, action: r.action, object_type: r.objectType, object_id: r.objectId, project: r.project, detail: r.detail })),
      }
    },
    {
      query: Type.Object({
        project: Type.Optional(Type.String()),
        actor: Type.Optional(Type.String()),
        before: Type.Optional(t.Integer()),
        limit: Type.Optional(t.Integer({ minimum: 1, maximum: 500, default: 100 })),
      }),
      ...doc('audit', 'The audit log, newest first. Org admins see everything; project admins their projects; members their own actions.', Type.Object({ entries: Type.Array(AuditEntry) })),
    },
  )
}

