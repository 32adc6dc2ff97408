/**
 * Sign-in routes: `/admin/auth/login` starts the OIDC flow (optionally carrying an invitation
 * or a setup link), `/admin/auth/callback` finishes it, `/admin/setup` and `/admin/invite`
 * are the pages behind one-time links. The browser is bound to its sign-in by a short-lived
 * cookie holding `state`, so a callback URL replayed in another browser does nothing.
 */
import { and, desc, eq, lt } from 'drizzle-orm'
import { adminAudit, adminIdentities, adminLoginStates, adminUsers } from '../db/schema-admin'
import { audit } from './audit'
import type { AdminContext } from './context'
import { randomId, safeEqual, sha256 } from './crypto'
import { pendingInvitation, redeemInvitation } from './invitations'
import { claimsGrantAdmin, domainAllowed, newPkce, OidcError, verifiedEmail, type IdClaims } from './oidc'
import { errorPage, escapeHtml, page } from './pages'
import { cookieValue, setCookie, signIn, type CookieJar } from './session'
import { consumeSetup, pendingSetup } from './setup'

const STATE_COOKIE = 'tollgate_oidc_state'
const LOGIN_TTL_MS = 10 * 60_000

/** Cookies go on Elysia's jar, which the answer carries (a Response of ours never sets them itself). */
function redirect(location: string): Response {
  return new Response(null, { status: 302, headers: { location, 'cache-control': 'no-store' } })
}

/**
 * One request to a sign-in route: its cookie jar, and where it came from, so that a failure
 * counts against the address (src/admin/attempts.ts).
 */
export interface SignInRequest {
  request: Request
  cookie: CookieJar
  address: string
}

function failed(ctx: AdminContext, r: SignInRequest, res: Response): Response {
  ctx.attempts.fail(r.address)
  return res
}

export async function startLogin(ctx: AdminContext, r: SignInRequest): Promise<Response> {
  const { request } = r
  if (!ctx.oidc) return errorPage('Single sign-on is not configured', 'This gateway has no [auth.oidc] section. Use a setup link from `tollgate admin bootstrap` or an admin token.', 404)
  const q = new URL(request.url).searchParams
  let invitationId: string | undefined
  let setupId: string | undefined
  const inv = q.get('invitation')
  if (inv) {
    const row = await pendingInvitation(ctx, inv)
    if (!row) return failed(ctx, r, errorPage('Invitation not valid', 'This invitation link was already used, was revoked, or has expired. Ask for a new one.', 410))
    invitationId = row.id
  }
  const setup = q.get('setup')
  if (setup) {
    const row = await pendingSetup(ctx.db, setup, ctx.now())
    if (!row) return failed(ctx, r, errorPage('Setup link not valid', 'This setup link was already used or has expired. Run `tollgate admin bootstrap` for a new one.', 410))
    setupId = row.id
  }
  const pk = newPkce()
  let url: string
  try {
    url = await ctx.oidc.authorizationUrl(pk)
  } catch (e) {
    return errorPage('Sign-in unavailable', e instanceof OidcError ? e.message : 'The identity provider could not be reached.', 502)
  }
  const now = ctx.now()
  await ctx.db.delete(adminLoginStates).where(lt(adminLoginStates.expiresAt, now))
  await ctx.db.insert(adminLoginStates).values({ stateSha256: sha256(pk.state), nonce: pk.nonce, codeVerifier: pk.verifier, invitationId, setupId, createdAt: now, expiresAt: now + LOGIN_TTL_MS })
  setCookie(ctx, request, r.cookie, STATE_COOKIE, pk.state, { maxAgeSeconds: LOGIN_TTL_MS / 1000, path: '/admin/auth' })
  return redirect(url)
}

export async function finishLogin(ctx: AdminContext, r: SignInRequest): Promise<Response> {
  const { request } = r
  // The client in force when the callback arrived (a SIGHUP may swap ctx.oidc meanwhile).
  const oidc = ctx.oidc
  if (!oidc) return errorPage('Single sign-on is not configured', 'This gateway has no [auth.oidc] section.', 404)
  const q = new URL(request.url).searchParams
  // Read before it is cleared (the jar holds what the answer sets, once set).
  const bound = cookieValue(r.cookie, STATE_COOKIE)
  // Whatever the outcome, the state cookie has done its work.
  setCookie(ctx, request, r.cookie, STATE_COOKIE, '', { maxAgeSeconds: 0, path: '/admin/auth' })
  const fail = (title: string, message: string, status: number) => failed(ctx, r, errorPage(title, message, status))
  if (q.get('error')) return fail('Sign-in was not completed', 'The identity provider did not sign you in. Try again, or ask your administrator.', 400)
  const state = q.get('state') ?? ''
  const code = q.get('code') ?? ''
  if (!state || !code || !bound || !safeEqual(bound, state)) return fail('Sign-in expired', 'This sign-in did not start in this browser, or took too long. Start again.', 400)
  const [login] = await ctx.db.delete(adminLoginStates).where(eq(adminLoginStates.stateSha256, sha256(state))).returning()
  if (!login || login.expiresAt <= ctx.now()) return fail('Sign-in expired', 'This sign-in took too long or was already used. Start again.', 400)

  let claims: IdClaims
  try {
    claims = await oidc.finish(q, { state, nonce: login.nonce, verifier: login.codeVerifier })
  } catch (e) {
    const msg = e instanceof OidcError ? e.message : 'The sign-in could not be verified.'
    console.error(`admin: sign-in refused: ${msg}`)
    return fail('Sign-in refused', msg, 401)
  }
  const cfg = oidc.cfg
  const email = verifiedEmail(claims)
  if (!email) {
    await audit(ctx, 'oidc', 'session.refused', 'identity', undefined, undefined, { reason: 'email_not_verified', iss: claims.iss })
    return fail('Sign-in refused', 'Your identity provider did not give a verified email address; this gateway accepts only verified emails.', 403)
  }
  if (!domainAllowed(cfg, email)) {
    await audit(ctx, 'oidc', 'session.refused', 'identity', undefined, undefined, { reason: 'domain_not_allowed', iss: claims.iss })
    return fail('Sign-in refused', 'Your email domain is not allowed to sign in to this gateway.', 403)
  }

  const userId = await resolveUser(ctx, claims, email)
  if (typeof userId !== 'string') return fail('Sign-in refused', userId.error, 403)
  const user = ctx.dir.user(userId)!

  // A setup link makes an admin by hand below; otherwise the claims decide, both ways.
  if (!login.setupId && user.source === 'db') await syncClaimsRole(ctx, userId, user.role, claimsGrantAdmin(cfg, claims))
  if (login.setupId) {
    if (user.source === 'config' && user.role !== 'admin') return fail('Setup refused', `User "${userId}" is declared in config.toml as a member; make them admin there.`, 403)
    if (!(await consumeSetup(ctx.db, login.setupId, userId, ctx.now()))) return fail('Setup link not valid', 'This setup link was already used or has expired.', 410)
    if (user.source === 'db') await ctx.db.update(adminUsers).set({ role: 'admin' }).where(eq(adminUsers.id, userId))
    await audit(ctx, userId, 'setup.redeem', 'user', userId, undefined, { role: 'admin' })
  }
  await ctx.dir.reload()
  if (login.invitationId) {
    const redeemed = await redeemInvitation(ctx, login.invitationId, userId, email)
    if (redeemed === 'wrong_email') return fail('Invitation not for you', 'This invitation was made for another email address.', 403)
    if (redeemed === 'gone') return fail('Invitation not valid', 'This invitation link was already used, was revoked, or has expired. Ask for a new one.', 410)
  }
  await signIn(ctx, request, r.cookie, userId)
  await audit(ctx, userId, 'session.signin', 'user', userId, undefined, { via: 'oidc' })
  return redirect('/admin/')
}

/**
 * The user behind a verified identity: the one it is bound to; else the user (config or
 * database) with this verified email, bound now; else a new database user (no projects until
 * invited, unless the claims make them an org admin).
 */
async function resolveUser(ctx: AdminContext, c: IdClaims, email: string): Promise<string | { error: string }> {
  const [bound] = await ctx.db
    .select()
    .from(adminIdentities)
    .where(and(eq(adminIdentities.iss, c.iss), eq(adminIdentities.sub, c.sub)))
    .limit(1)
  if (bound && ctx.dir.user(bound.userId)) return bound.userId
  const now = ctx.now()
  let userId: string | undefined
  const existing = ctx.dir.userByEmail(email)
  if (existing) {
    const other = await ctx.db.select().from(adminIdentities).where(eq(adminIdentities.userId, existing.id)).limit(1)
    if (other.length && (other[0]!.iss !== c.iss || other[0]!.sub !== c.sub)) return { error: 'Another sign-in identity is already bound to this email; ask an administrator.' }
    userId = existing.id
  }
  if (!userId) {
    userId = newUserId(ctx, email)
    await ctx.db.insert(adminUsers).values({ id: userId, email, name: typeof c.name === 'string' ? c.name.slice(0, 200) : undefined, role: 'member', createdAt: now })
    await audit(ctx, 'oidc', 'user.create', 'user', userId, undefined, { via: 'oidc', email })
  }
  if (bound) await ctx.db.delete(adminIdentities).where(and(eq(adminIdentities.iss, c.iss), eq(adminIdentities.sub, c.sub)))
  await ctx.db.insert(adminIdentities).values({ iss: c.iss, sub: c.sub, userId, email, createdAt: now })
  await ctx.dir.reload()
  return userId
}

/**
 * Applies the org role the claims give (`admin_emails`, `admin_groups`) at this sign-in: raised
 * when they grant admin, lowered when they no longer do, but only when the admin role itself
 * came from claims. The audit trail says where the role came from (the last role change
 * recorded for the user), so a role granted by hand (API, UI, setup link) is never lowered.
 * Sessions read the role from the user row, so live sessions follow at once.
 */
async function syncClaimsRole(ctx: AdminContext, userId: string, role: string, grant: boolean): Promise<void> {
  if (grant === (role === 'admin')) return
  if (!grant && !(await roleCameFromClaims(ctx, userId))) return
  const next = grant ? 'admin' : 'member'
  await ctx.db.update(adminUsers).set({ role: next }).where(eq(adminUsers.id, userId))
  await audit(ctx, 'oidc', 'user.role', 'user', userId, undefined, { role: next, reason: 'claims' })
  await ctx.dir.reload()
}

async function roleCameFromClaims(ctx: AdminContext, userId: string): Promise<boolean> {
  const rows = await ctx.db
    .select({ actor: adminAudit.actor, action: adminAudit.action, detail: adminAudit.detail })
    .from(adminAudit)
    .where(and(eq(adminAudit.objectType, 'user'), eq(adminAudit.objectId, userId)))
    .orderBy(desc(adminAudit.ts))
    .limit(200)
  for (const r of rows) {
    const detail = (r.detail ?? {}) as { role?: unknown; reason?: unknown }
    if (r.action === 'setup.redeem') return false
    if (r.action === 'user.role') return r.actor === 'oidc' && detail.reason === 'claims'
    if ((r.action === 'user.update' || r.action === 'user.create') && detail.role !== undefined) return false
  }
  return false
}

function newUserId(ctx: AdminContext, seed: string): string {
  const base = (seed.split('@')[0] ?? 'user').toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 40) || 'user'
  let id = base
  while (ctx.dir.idTaken('user', id)) id = `${base}-${randomId(4)}`
  return id
}

export async function setupPage(ctx: AdminContext, r: SignInRequest): Promise<Response> {
  const token = new URL(r.request.url).searchParams.get('token') ?? ''
  const row = await pendingSetup(ctx.db, token, ctx.now())
  if (!row) return failed(ctx, r, errorPage('Setup link not valid', 'This setup link was already used or has expired. Run `tollgate admin bootstrap` for a new one.', 410))
  if (ctx.oidc) {
    return page(
      'Set up Tollgate',
      `<p>Sign in with your single sign-on account. That account becomes the first organisation admin.</p><p><a class="btn" href="/admin/auth/login?setup=${encodeURIComponent(token)}">Sign in to continue</a></p>`,
    )
  }
  return page(
    'Set up Tollgate',
    `<p>Single sign-on is not configured, so this link signs you in as a local organisation admin. It works once.</p>
<form method="post" action="/admin/setup"><input type="hidden" name="token" value="${escapeHtml(token)}">
<label for="user">User id</label><input id="user" name="user" value="admin" required pattern="[A-Za-z0-9][A-Za-z0-9_.\\-]*" maxlength="64">
<label for="email">Email (optional)</label><input id="email" name="email" type="email" maxlength="320">
<p></p><button type="submit">Create admin and sign in</button></form>`,
  )
}

export async function redeemSetupForm(ctx: AdminContext, r: SignInRequest): Promise<Response> {
  const { request } = r
  if (ctx.oidc) return errorPage('Use single sign-on', 'This gateway signs in through single sign-on; open the setup link again and sign in.', 400)
  const form = await request.formData().catch(() => undefined)
  const token = String(form?.get('token') ?? '')
  const userId = String(form?.get('user') ?? 'admin').trim()
  const email = String(form?.get('email') ?? '').trim().toLowerCase() || undefined
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(userId)) return errorPage('Invalid user id', 'Use letters, digits, dot, dash and underscore.', 400)
  const row = await pendingSetup(ctx.db, token, ctx.now())
  if (!row) return failed(ctx, r, errorPage('Setup link not valid', 'This setup link was already used or has expired.', 410))
  const existing = ctx.dir.user(userId)
  if (existing?.source === 'config' && existing.role !== 'admin') return errorPage('Setup refused', `User "${userId}" is declared in config.toml as a member.`, 403)
  if (!(await consumeSetup(ctx.db, row.id, userId, ctx.now()))) return errorPage('Setup link not valid', 'This setup link was already used.', 410)
  if (!existing) await ctx.db.insert(adminUsers).values({ id: userId, email, role: 'admin', createdAt: ctx.now() })
  else if (existing.source === 'db') await ctx.db.update(adminUsers).set({ role: 'admin' }).where(eq(adminUsers.id, userId))
  await ctx.dir.reload()
  await audit(ctx, 'setup', 'setup.redeem', 'user', userId, undefined, { role: 'admin', via: 'setup_link' })
  await signIn(ctx, request, r.cookie, userId)
  return redirect('/admin/')
}

export async function invitePage(ctx: AdminContext, r: SignInRequest): Promise<Response> {
  const token = new URL(r.request.url).searchParams.get('token') ?? ''
  const inv = await pendingInvitation(ctx, token)
  if (!inv) return failed(ctx, r, errorPage('Invitation not valid', 'This invitation link was already used, was revoked, or has expired. Ask for a new one.', 410))
  const role = inv.role === 'admin' ? 'an admin' : 'a member'
  if (!ctx.oidc) {
    return errorPage('Sign-in is not configured', 'Invitations are redeemed by signing in, and this gateway has no single sign-on ([auth.oidc]) yet. Ask your administrator.', 409)
  }
  return page(
    'You are invited',
    `<p>You are invited to join the project <strong>${escapeHtml(inv.project)}</strong> as ${role}.</p>
<p><a class="btn" href="/admin/auth/login?invitation=${encodeURIComponent(token)}">Sign in to accept</a></p>
<p class="muted">The link works once and expires ${escapeHtml(new Date(inv.expiresAt).toUTCString())}.</p>`,
  )
}
