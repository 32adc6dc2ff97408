/**
 * Who may do what, decided on every object, server-side:
 * - org admin: everything;
 * - project admin: their projects' providers, members, invitations, keys and key limits;
 * - member: their own personal keys (within the caps) and their own usage.
 * `see*` decides visibility: an object one cannot see answers 404 (as if it did not exist).
 * `manage*` decides changes on a visible object: refusing answers 403 without details.
 */
import type { Directory, ProjectRole } from './directory'
import { forbidden, notFound } from './errors'

export interface Principal {
  kind: 'session' | 'token'
  /** User id, or `token:<id>` for a token that acts as no user. */
  actor: string
  userId?: string
  orgAdmin: boolean
  /** Project id → role, for everyone but org admins. */
  projects: Map<string, ProjectRole>
  /** Session only: the CSRF token the UI must echo on state-changing requests. */
  csrf?: string
  email?: string
}

export function principalForUser(dir: Directory, userId: string, kind: Principal['kind'], csrf?: string): Principal | undefined {
  const u = dir.user(userId)
  if (!u) return undefined
  const projects = new Map<string, ProjectRole>()
  for (const m of dir.membershipsOf(userId)) projects.set(m.project, m.role)
  return { kind, actor: userId, userId, orgAdmin: u.role === 'admin', projects, csrf, email: u.email }
}

export function canSeeProject(p: Principal, project: string): boolean {
  return p.orgAdmin || p.projects.has(project)
}

export function isProjectAdmin(p: Principal, project: string): boolean {
  return p.orgAdmin || p.projects.get(project) === 'admin'
}

/** Projects the principal administers (all, for org admins: undefined). */
export function adminProjects(p: Principal): string[] | undefined {
  if (p.orgAdmin) return undefined
  return [...p.projects].filter(([, r]) => r === 'admin').map(([id]) => id)
}

export function requireOrgAdmin(p: Principal): void {
  if (!p.orgAdmin) throw forbidden('Only an organisation admin can do this.')
}

/** 404 unless the project is visible; 403 unless the principal administers it. */
export function requireProjectAdmin(p: Principal, project: string, dir: Directory): void {
  if (!dir.project(project) || !canSeeProject(p, project)) throw notFound('project')
  if (!isProjectAdmin(p, project)) throw forbidden('Only an admin of this project can do this.')
}

/** A user is visible to org admins, to themself, and to admins of a project the user is in. */
export function canSeeUser(p: Principal, dir: Directory, userId: string): boolean {
  if (p.orgAdmin || p.userId === userId) return true
  return dir.membershipsOf(userId).some((m) => p.projects.get(m.project) === 'admin')
}

export interface KeyOwner {
  project: string
  user?: string | null
}

/** Keys: org admins all; project admins their projects'; members their own personal keys. */
export function canSeeKey(p: Principal, k: KeyOwner): boolean {
  if (isProjectAdmin(p, k.project)) return true
  return p.userId !== undefined && k.user === p.userId && p.projects.has(k.project)
}

/** A provider is visible to org admins, and to members of a project that may reach it. */
export function canSeeProvider(p: Principal, dir: Directory, providerId: string): boolean {
  if (p.orgAdmin) return true
  const prov = dir.provider(providerId)
  if (!prov) return false
  for (const project of p.projects.keys()) {
    const proj = dir.merged.projects.find((x) => x.id === project)
    if (!proj) continue
    if (prov.project ? prov.project === project : !proj.providers || proj.providers.includes(providerId)) return true
  }
  return false
}
