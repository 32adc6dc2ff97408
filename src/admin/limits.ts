/**
 * Spend limits of projects, users and keys created through the admin API, in nano-dollars per
 * window. Project and user limits are org admins'; key limits are the project admins'.
 * Limits of config.toml entities are read-only here. After a change the directory reloads, so
 * the merged Config (projects[].limits, users[].limits) and the KeyStore (key limits) carry the
 * new values, and the spend engine is told to re-read them.
 */
import { eq } from 'drizzle-orm'
import { Type } from '@sinclair/typebox'
import { apiKeys } from '../db/schema'
import { adminProjects, adminUsers } from '../db/schema-admin'
import { audit } from './audit'
import { canSeeProject, isProjectAdmin, requireOrgAdmin, type Principal } from './authz'
import type { AdminContext } from './context'
import { badRequest, forbidden, notFound, readOnly } from './errors'
import { visibleKey } from './keys'
import { LimitsNanos, limitsPatch, limitsToNanos } from './money'
import { doc, json, type AdminApi } from './api'
import { LimitsOut, Source } from './schemas'
import { visibleUser } from './users'

const Scope = Type.Union([Type.Literal('project'), Type.Literal('user'), Type.Literal('key')])
const LimitsAnswer = Type.Object({ scope: Scope, id: Type.String(), source: Source, limits: LimitsOut })

async function current(ctx: AdminContext, p: Principal, scope: string, id: string) {
  if (scope === 'project') {
    const x = ctx.dir.project(id)
    if (!x || !canSeeProject(p, id)) throw notFound('project')
    return { source: x.source, limits: limitsToNanos(x.limits), project: id }
  }
  if (scope === 'user') {
    const u = visibleUser(ctx, p, id)
    return { source: u.source, limits: limitsToNanos(u.limits), project: undefined }
  }
  if (scope === 'key') {
    const k = await visibleKey(ctx, p, id)
    return { source: k.source, limits: k.limits, project: k.project }
  }
  throw badRequest('scope: expected project, user or key')
}

export function limitRoutes(api: AdminApi): void {
  api.get(
    '/limits/:scope/:id',
    async ({ ctx, p, params }) => {
      const c = await current(ctx, p, params.scope, params.id)
      return { scope: params.scope, id: params.id, source: c.source, limits: c.limits }
    },
    doc('limits', 'Spend limits of a project, user or key', LimitsAnswer),
  )

  api.put(
    '/limits/:scope/:id',
    async ({ ctx, p, params, body }) => {
      const scope = params.scope
      const id = params.id
      const c = await current(ctx, p, scope, id)
      if (scope === 'key') {
        if (!isProjectAdmin(p, c.project!)) throw forbidden('Only a project admin can change a key\'s limits.')
      } else requireOrgAdmin(p)
      if (c.source === 'config') throw readOnly(scope.charAt(0).toUpperCase() + scope.slice(1), id)
      const set = limitsPatch(body)
      if (Object.keys(set).length) {
        if (scope === 'project') await ctx.db.update(adminProjects).set(set).where(eq(adminProjects.id, id))
        else if (scope === 'user') await ctx.db.update(adminUsers).set(set).where(eq(adminUsers.id, id))
        else await ctx.db.update(apiKeys).set(set).where(eq(apiKeys.id, id))
      }
      await audit(ctx, p, 'limits.set', scope, id, c.project, body)
      await ctx.dir.reload()
      if (scope === 'key') await ctx.keysChanged(id)
      await ctx.limitsChanged()
      const after = await current(ctx, p, scope, id)
      return { scope, id, source: after.source, limits: after.limits }
    },
    {
      ...json(LimitsNanos),
      ...doc('limits', 'Set spend limits (absent fields stay as they are, null removes a limit)', LimitsAnswer),
    },
  )
}

