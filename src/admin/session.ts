/**
 * Who is calling the admin API: a browser session (HttpOnly cookie, SameSite=Lax, Secure
 * behind TLS, fixed expiry; only its SHA-256 is stored) or an admin token
 * (`Authorization: Bearer tga_…`). Gateway keys are not admin credentials.
 * Cookies are read from and written to Elysia's cookie jar (the route context's `cookie`).
 */
import { and, eq, gt, lt } from 'drizzle-orm'
import type { Cookie } from 'elysia'
import { adminSessions, adminUsers } from '../db/schema-admin'
import { type AdminContext, overTls } from './context'
import { principalForUser, type Principal } from './authz'
import { randomToken, sha256 } from './crypto'
import { principalForToken } from './tokens'

export const SESSION_COOKIE = 'tollgate_session'

/** The route context's `cookie`: what the request sent, and what the answer sets. */
export type CookieJar = Record<string, Cookie<unknown>>

/**
 * A cookie's value as Elysia parsed it. Elysia turns JSON-looking values into objects and
 * numbers; every cookie the gateway sets is a plain string, so anything else is no credential.
 */
export function cookieValue(jar: CookieJar | undefined, name: string): string | undefined {
  const v = jar?.[name]?.value
  return typeof v === 'string' && v !== '' ? v : undefined
}

/** Sets (or, with maxAgeSeconds 0 and an empty value, clears) one of the admin surface's cookies. */
export function setCookie(ctx: AdminContext, request: Request, jar: CookieJar, name: string, value: string, opts: { maxAgeSeconds: number; path?: string }): void {
  jar[name]!.set({
    value,
    path: opts.path ?? '/admin',
    maxAge: Math.max(0, Math.floor(opts.maxAgeSeconds)),
    httpOnly: true,
    sameSite: 'lax',
    secure: overTls(ctx.config, request),
  })
}

/** Starts a session for a user; returns its secret (the cookie's value), which is not stored. */
export async function createSession(ctx: AdminContext, userId: string): Promise<string> {
  // The prefix lets the redactor recognise a session id pasted anywhere.
  const secret = `tgss_${randomToken(32)}`
  const now = ctx.now()
  const ttl = ctx.config.admin.session_hours * 3600_000
  await ctx.db.insert(adminSessions).values({ idSha256: sha256(secret), userId, csrfToken: randomToken(24), createdAt: now, expiresAt: now + ttl })
  // Expired rows are swept whenever someone signs in; there are few.
  await ctx.db.delete(adminSessions).where(lt(adminSessions.expiresAt, now))
  await ctx.db.update(adminUsers).set({ lastSeenAt: now }).where(eq(adminUsers.id, userId))
  return secret
}

/** Starts a session and sets its cookie on the answer. */
export async function signIn(ctx: AdminContext, request: Request, jar: CookieJar, userId: string): Promise<void> {
  const secret = await createSession(ctx, userId)
  setCookie(ctx, request, jar, SESSION_COOKIE, secret, { maxAgeSeconds: ctx.config.admin.session_hours * 3600 })
}

/** Ends the browser's session and clears its cookie. */
export async function endSession(ctx: AdminContext, request: Request, jar: CookieJar): Promise<void> {
  const secret = cookieValue(jar, SESSION_COOKIE)
  if (secret) await ctx.db.delete(adminSessions).where(eq(adminSessions.idSha256, sha256(secret)))
  setCookie(ctx, request, jar, SESSION_COOKIE, '', { maxAgeSeconds: 0 })
}

export async function endSessionsOf(ctx: AdminContext, userId: string): Promise<void> {
  await ctx.db.delete(adminSessions).where(eq(adminSessions.userId, userId))
}

/** The credential a request presents, before anything is looked up. */
export type Presented = { kind: 'token'; secret: string | undefined } | { kind: 'session'; secret: string } | undefined

export function presented(request: Request, jar: CookieJar | undefined): Presented {
  const auth = request.headers.get('authorization')
  if (auth) return { kind: 'token', secret: /^Bearer\s+(\S+)$/i.exec(auth)?.[1] }
  const secret = cookieValue(jar, SESSION_COOKIE)
  return secret ? { kind: 'session', secret } : undefined
}

/** The caller behind a presented credential, or undefined when it is not a valid admin credential. */
export async function principalOf(ctx: AdminContext, cred: Presented): Promise<Principal | undefined> {
  if (!cred) return undefined
  if (cred.kind === 'token') return cred.secret ? principalForToken(ctx, cred.secret) : undefined
  if (cred.secret.length > 100) return undefined
  const [row] = await ctx.db
    .select()
    .from(adminSessions)
    .where(and(eq(adminSessions.idSha256, sha256(cred.secret)), gt(adminSessions.expiresAt, ctx.now())))
    .limit(1)
  if (!row) return undefined
  return principalForUser(ctx.dir, row.userId, 'session', row.csrfToken)
}
