/** Projects: org admins create and delete; project admins rename and choose providers. */
import { and, eq, isNull } from 'drizzle-orm'
import { Type } from '@sinclair/typebox'
import { reservedName } from '../config/reserved'
import { apiKeys } from '../db/schema'
import { adminInvitations, adminMemberships, adminProjects, adminProviders } from '../db/schema-admin'
import { audit } from './audit'
import { canSeeProject, requireOrgAdmin, requireProjectAdmin, type Principal } from './authz'
import type { AdminContext } from './context'
import type { ProjectView } from './directory'
import { badRequest, conflict, notFound, readOnly } from './errors'
import { LimitsNanos, limitsPatch } from './money'
import { doc, json, type AdminApi } from './api'
import { Id, LimitsOut, Nullable, ProjectRole, Source, limitsOut } from './schemas'

const Project = Type.Object({
  id: Type.String(),
  name: Nullable(Type.String()),
  providers: Nullable(Type.Array(Type.String())),
  limits: LimitsOut,
  source: Source,
  your_role: ProjectRole,
  created_at: Nullable(Type.Integer()),
  /** Set when a database project's id is a reserved name (made before the rule): why. */
  reserved_name_conflict: Nullable(Type.String()),
})

function view(p: Principal, x: ProjectView) {
  return {
    id: x.id,
    name: x.name ?? null,
    providers: x.providers ?? null,
    limits: limitsOut(x.limits),
    source: x.source,
    your_role: p.orgAdmin ? ('admin' as const) : (p.projects.get(x.id) ?? 'member'),
    created_at: x.createdAt ?? null,
    reserved_name_conflict: x.reservedConflict ?? null,
  }
}

export function visibleProject(ctx: AdminContext, p: Principal, id: string): ProjectView {
  const x = ctx.dir.project(id)
  if (!x || !canSeeProject(p, id)) throw notFound('project')
  return x
}

function checkProviders(ctx: AdminContext, project: string, list: string[] | undefined): void {
  for (const id of list ?? []) {
    const prov = ctx.dir.provider(id)
    if (!prov || (prov.project && prov.project !== project)) throw badRequest(`providers: unknown provider "${id}"`)
  }
}

export function projectRoutes(api: AdminApi): void {
  api.get(
    '/projects',
    ({ ctx, p }) => ({
      projects: ctx.dir
        .projects()
        .filter((x) => canSeeProject(p, x.id))
        .map((x) => view(p, x)),
    }),
    doc('projects', 'Projects the caller can see', Type.Object({ projects: Type.Array(Project) })),
  )

  api.post(
    '/projects',
    async ({ ctx, p, body }) => {
      requireOrgAdmin(p)
      const reserved = reservedName(body.id)
      if (reserved) throw badRequest(`id: ${reserved}`)
      if (ctx.dir.idTaken('project', body.id)) throw conflict(`A project with id "${body.id}" already exists.`)
      checkProviders(ctx, body.id, body.providers)
      await ctx.db.insert(adminProjects).values({ id: body.id, name: body.name, providers: body.providers, createdAt: ctx.now(), ...limitsPatch(body.limits ?? {}) })
      await audit(ctx, p, 'project.create', 'project', body.id, body.id, { name: body.name, providers: body.providers, limits: body.limits })
      await ctx.dir.reload()
      await ctx.limitsChanged()
      return view(p, ctx.dir.project(body.id)!)
    },
    {
      ...json(Type.Object(
        { id: Id, name: Type.Optional(Type.String({ maxLength: 200 })), providers: Type.Optional(Type.Array(Id)), limits: Type.Optional(LimitsNanos) },
        { additionalProperties: false },
      )),
      ...doc('projects', 'Create a project (org admin)', Project, 201),
    },
  )

  api.get('/projects/:id', ({ ctx, p, params }) => view(p, visibleProject(ctx, p, params.id)), doc('projects', 'One project', Project))

  api.patch(
    '/projects/:id',
    async ({ ctx, p, params, body }) => {
      const id = params.id
      requireProjectAdmin(p, id, ctx.dir)
      const x = ctx.dir.project(id)!
      if (x.source === 'config') throw readOnly('Project', id)
      checkProviders(ctx, id, body.providers ?? undefined)
      const set: Partial<typeof adminProjects.$inferInsert> = {}
      if (body.name !== undefined) set.name = body.name
      if (body.providers !== undefined) set.providers = body.providers
      if (Object.keys(set).length) await ctx.db.update(adminProjects).set(set).where(eq(adminProjects.id, id))
      await audit(ctx, p, 'project.update', 'project', id, id, body)
      await ctx.dir.reload()
      return view(p, ctx.dir.project(id)!)
    },
    {
      ...json(Type.Object({ name: Type.Optional(Nullable(Type.String({ maxLength: 200 }))), providers: Type.Optional(Nullable(Type.Array(Id))) }, { additionalProperties: false })),
      ...doc('projects', 'Rename a project or change the providers it may reach (project admin)', Project),
    },
  )

  api.delete(
    '/projects/:id',
    async ({ ctx, p, params }) => {
      const id = params.id
      visibleProject(ctx, p, id)
      requireOrgAdmin(p)
      if (ctx.dir.project(id)!.source === 'config') throw readOnly('Project', id)
      const keys = await ctx.db.select({ id: apiKeys.id }).from(apiKeys).where(and(eq(apiKeys.project, id), isNull(apiKeys.revokedAt))).limit(1)
      if (keys.length) throw conflict('This project still has active keys; revoke them first.')
      const provs = await ctx.db.select({ id: adminProviders.id }).from(adminProviders).where(eq(adminProviders.project, id)).limit(1)
      if (provs.length) throw conflict('This project still owns providers; delete them first.')
      await ctx.db.batch([
        ctx.db.delete(adminMemberships).where(eq(adminMemberships.project, id)),
        ctx.db.delete(adminInvitations).where(eq(adminInvitations.project, id)),
        ctx.db.delete(adminProjects).where(eq(adminProjects.id, id)),
      ])
      await audit(ctx, p, 'project.delete', 'project', id, id)
      await ctx.dir.reload()
      return { ok: true }
    },
    doc('projects', 'Delete a project with no active keys or own providers (org admin)'),
  )
}
