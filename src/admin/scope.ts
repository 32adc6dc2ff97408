/**
 * Which request-log rows a caller may read: org admins all; project admins their projects';
 * everyone their own (rows with their user id). Filters naming an object out of reach are
 * 404, like every other object.
 */
import { and, eq, inArray, or, sql, type SQL } from 'drizzle-orm'
import { requestLog } from '../db/schema'
import { adminProjects, canSeeKey, canSeeProject, canSeeUser, type Principal } from './authz'
import type { AdminContext } from './context'
import { notFound } from './errors'
import { findKey } from './key-view'

export interface ScopeFilter {
  project?: string
  user?: string
  key?: string
}

export async function logScope(ctx: AdminContext, p: Principal, f: ScopeFilter): Promise<SQL[]> {
  const where: SQL[] = []
  if (f.project !== undefined) {
    if (!ctx.dir.project(f.project) || !canSeeProject(p, f.project)) throw notFound('project')
    where.push(eq(requestLog.project, f.project))
  }
  if (f.user !== undefined) {
    if (!ctx.dir.user(f.user) || !canSeeUser(p, ctx.dir, f.user)) throw notFound('user')
    where.push(eq(requestLog.user, f.user))
  }
  if (f.key !== undefined) {
    const k = await findKey(ctx, f.key)
    if (!k || !canSeeKey(p, k)) throw notFound('key')
    where.push(eq(requestLog.keyId, f.key))
  }
  const own = adminProjects(p)
  if (own !== undefined) {
    const parts: SQL[] = []
    if (own.length) parts.push(inArray(requestLog.project, own))
    if (p.userId) parts.push(eq(requestLog.user, p.userId))
    where.push(parts.length ? or(...parts)! : sql`false`)
  }
  return where
}

export function allOf(where: SQL[]): SQL | undefined {
  return where.length ? and(...where) : undefined
}
