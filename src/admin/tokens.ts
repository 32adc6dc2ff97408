/**
 * Admin tokens for automation: `tga_<id>_<secret>`, scoped to a role (org admin, admin of one
 * project, or acting as one user). Shown once at creation; only the SHA-256 is stored.
 */
import { eq } from 'drizzle-orm'
import type { Db } from '../db/client'
import { adminTokens } from '../db/schema-admin'
import type { AdminContext } from './context'
import { principalForUser, type Principal } from './authz'
import { randomId, randomToken, safeEqual, sha256 } from './crypto'

export const TOKEN_ROLES = ['org_admin', 'project_admin', 'member'] as const
export type TokenRole = (typeof TOKEN_ROLES)[number]
const TOKEN_RE = /^tga_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/
/** Compared against when the id is unknown (no SHA-256 is all zeros). */
const NO_TOKEN = '0'.repeat(64)

export interface NewToken {
  role: TokenRole
  name?: string
  project?: string
  userId?: string
  expiresAt?: number
}

export async function createAdminToken(db: Db, t: NewToken, now = Date.now()): Promise<{ id: string; secret: string }> {
  const id = randomId(12)
  const secret = `tga_${id}_${randomToken(32)}`
  await db.insert(adminTokens).values({
    id,
    name: t.name,
    tokenSha256: sha256(secret),
    role: t.role,
    project: t.project,
    userId: t.userId,
    createdAt: now,
    expiresAt: t.expiresAt,
  })
  return { id, secret }
}

export async function principalForToken(ctx: AdminContext, secret: string): Promise<Principal | undefined> {
  const m = TOKEN_RE.exec(secret)
  if (!m) return undefined
  const [row] = await ctx.db.select().from(adminTokens).where(eq(adminTokens.id, m[1]!)).limit(1)
  // An unknown id ends in the same compare as a wrong secret, so the two take the same time.
  if (!safeEqual(row?.tokenSha256 ?? NO_TOKEN, sha256(secret)) || !row) return undefined
  const now = ctx.now()
  if (row.revokedAt !== null || (row.expiresAt !== null && row.expiresAt <= now)) return undefined
  // Coarse last-used stamp: at most one write a minute per token.
  if (!row.lastUsedAt || now - row.lastUsedAt > 60_000) await ctx.db.update(adminTokens).set({ lastUsedAt: now }).where(eq(adminTokens.id, row.id))
  const actor = `token:${row.id}`
  if (row.role === 'org_admin') return { kind: 'token', actor, orgAdmin: true, projects: new Map() }
  if (row.role === 'project_admin' && row.project && ctx.dir.project(row.project)) {
    return { kind: 'token', actor, orgAdmin: false, projects: new Map([[row.project, 'admin']]) }
  }
  if (row.role === 'member' && row.userId) {
    const p = principalForUser(ctx.dir, row.userId, 'token')
    // A member token never carries more than member rights, whatever the user's roles.
    if (p) return { ...p, actor, orgAdmin: false, projects: new Map([...p.projects.keys()].map((k) => [k, 'member'])) }
  }
  return undefined
}
