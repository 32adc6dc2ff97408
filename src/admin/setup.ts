/**
 * One-time setup links: the first start with an empty database prints one (and
 * `tollgate admin bootstrap` prints one at any time). Opening it makes the first org admin:
 * with OIDC configured, whoever signs in through it; without OIDC, a local admin user who gets
 * a session (there is no password; the link is the credential, single use, 24 hours).
 */
import { and, count, eq, gt, isNotNull, isNull, lte, or } from 'drizzle-orm'
import type { Db } from '../db/client'
import { adminIdentities, adminSetupLinks, adminUsers } from '../db/schema-admin'
import { randomId, randomToken, sha256 } from './crypto'

export const SETUP_TTL_MS = 24 * 3600_000

export async function createSetupLink(db: Db, base: string, now = Date.now()): Promise<string> {
  const token = `tgs_${randomToken(32)}`
  await db.insert(adminSetupLinks).values({ id: randomId(12), tokenSha256: sha256(token), createdAt: now, expiresAt: now + SETUP_TTL_MS })
  return `${base}/admin/setup?token=${token}`
}

/** The id of the link a first start prints: one row at a time, so one instance prints it. */
const FIRST_START_ID = 'first-start'

/**
 * The first-start link, or undefined when another instance (or an earlier start) already made
 * one that is still pending. Several instances starting on one empty shared database race
 * here; the primary key lets exactly one insert win, on libSQL and PostgreSQL alike.
 */
export async function createFirstStartLink(db: Db, base: string, now = Date.now()): Promise<string | undefined> {
  // A used or expired first-start link makes room for a new one (a pending one stays).
  await db.delete(adminSetupLinks).where(and(eq(adminSetupLinks.id, FIRST_START_ID), or(isNotNull(adminSetupLinks.usedAt), lte(adminSetupLinks.expiresAt, now))))
  const token = `tgs_${randomToken(32)}`
  const won = await db
    .insert(adminSetupLinks)
    .values({ id: FIRST_START_ID, tokenSha256: sha256(token), createdAt: now, expiresAt: now + SETUP_TTL_MS })
    .onConflictDoNothing()
    .returning({ id: adminSetupLinks.id })
  return won.length === 1 ? `${base}/admin/setup?token=${token}` : undefined
}

/** True while nobody has ever been set up: no database user and no bound identity. */
export async function isEmpty(db: Db): Promise<boolean> {
  const [u] = await db.select({ n: count() }).from(adminUsers)
  const [i] = await db.select({ n: count() }).from(adminIdentities)
  return (u?.n ?? 0) === 0 && (i?.n ?? 0) === 0
}

export async function pendingSetup(db: Db, token: string, now: number) {
  if (!token.startsWith('tgs_') || token.length > 100) return undefined
  const [row] = await db
    .select()
    .from(adminSetupLinks)
    .where(and(eq(adminSetupLinks.tokenSha256, sha256(token)), isNull(adminSetupLinks.usedAt), gt(adminSetupLinks.expiresAt, now)))
    .limit(1)
  return row
}

/** Marks a setup link used, exactly once; false when it was already used or has expired. */
export async function consumeSetup(db: Db, id: string, userId: string, now: number): Promise<boolean> {
  const done = await db
    .update(adminSetupLinks)
    .set({ usedAt: now, usedBy: userId })
    .where(and(eq(adminSetupLinks.id, id), isNull(adminSetupLinks.usedAt), gt(adminSetupLinks.expiresAt, now)))
    .returning({ id: adminSetupLinks.id })
  return done.length === 1
}
