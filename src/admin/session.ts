/**
 * Who is calling the admin API: a browser session (HttpOnly cookie, SameSite=Lax, Secure
 * behind TLS, fixed expiry; only its SHA-256 is stored) or an admin token
 * (`Authorization: Bearer tga_…`). Gateway keys are not admin credentials.
 */
import { and, eq, gt, lt } from 'drizzle-orm'
import { adminSessions, adminUsers } from '../db/schema-admin'
import { type AdminContext, overTls } from './context'
import { principalForUser, type Principal } from './authz'
import { randomToken, sha256 } from './crypto'
import { unauthenticated } from './errors'
import { principalForToken } from './tokens'

export const SESSION_COOKIE = 'tollgate_session'

export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get('cookie')
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

export function cookie(ctx: AdminContext, request: Request, name: string, value: string, opts: { maxAgeSeconds: number; path?: string }): string {
  const parts = [`${name}=${value}`, `Path=${opts.path ?? '/admin'}`, `Max-Age=${Math.max(0, Math.floor(opts.maxAgeSeconds))}`, 'HttpOnly', 'SameSite=Lax']
  if (overTls(ctx.config, request)) parts.push('Secure')
  return parts.join('; ')
}

/** Starts a session for a user; returns the Set-Cookie header value. */
export async function createSession(ctx: AdminContext, request: Request, userId: string): Promise<string> {
  // The prefix lets the redactor recognise a session id pasted anywhere.
  const secret = `tgss_${randomToken(32)}`
  const now = ctx.now()
  const ttl = ctx.config.admin.session_hours * 3600_000
  await ctx.db.insert(adminSessions).values({ idSha256: sha256(secret), userId, csrfToken: randomToken(24), createdAt: now, expiresAt: now + ttl })
  // Expired rows are swept whenever someone signs in; there are few.
  await ctx.db.delete(adminSessions).where(lt(adminSessions.expiresAt, now))
  await ctx.db.update(adminUsers).set({ lastSeenAt: now }).where(eq(adminUsers.id, userId))
  return cookie(ctx, request, SESSION_COOKIE, secret, { maxAgeSeconds: ttl / 1000 })
}

export async function endSession(ctx: AdminContext, request: Request): Promise<string> {
  const secret = readCookie(request, SESSION_COOKIE)
  if (secret) await ctx.db.delete(adminSessions).where(eq(adminSessions.idSha256, sha256(secret)))
  return cookie(ctx, request, SESSION_COOKIE, '', { maxAgeSeconds: 0 })
}

export async function endSessionsOf(ctx: AdminContext, userId: string): Promise<void> {
  await ctx.db.delete(adminSessions).where(eq(adminSessions.userId, userId))
}

/** The caller, or undefined when the request carries no valid admin credential. */
export async function principalOf(ctx: AdminContext, request: Request): Promise<Principal | undefined> {
  const auth = request.headers.get('authorization')
  if (auth) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth)
    return m ? principalForToken(ctx, m[1]!) : undefined
  }
  const secret = readCookie(request, SESSION_COOKIE)
  if (!secret || secret.length > 100) return undefined
  const [row] = await ctx.db
    .select()
    .from(adminSessions)
    .where(and(eq(adminSessions.idSha256, sha256(secret)), gt(adminSessions.expiresAt, ctx.now())))
    .limit(1)
  if (!row) return undefined
  return principalForUser(ctx.dir, row.userId, 'session', row.csrfToken)
}

export async function requirePrincipal(ctx: AdminContext, request: Request): Promise<Principal> {
  const p = await principalOf(ctx, request)
  if (!p) throw unauthenticated()
  return p
}
