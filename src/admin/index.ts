/**
 * The admin surface under /admin: the admin API (/admin/api/v1, OpenAPI at
 * /admin/api/openapi.json, docs at /admin/api/docs), the sign-in routes, and the UI.
 * A router separate from the proxy: `startAdmin` prepares the state when the gateway starts,
 * `adminPlugin` is the Elysia plugin that app.ts mounts before the proxy's catch-all.
 */
import { Elysia } from 'elysia'
import type { Gateway } from '../gateway'
import { adminTokenRoutes } from './admin-tokens'
import { FailedAttempts } from './attempts'
import { clientAddress, TrustedProxies, type PeerSource } from './client-address'
import { auditRoutes } from './audit'
import { publicBase, type AdminContext } from './context'
import { credentialRoutes } from './credentials'
import { SecretBox, secretKeyProblem } from './crypto'
import { Directory } from './directory'
import { AdminError } from './errors'
import { adminApi } from './api'
import { invitationRoutes } from './invitations'
import { keyRoutes } from './key-routes'
import { limitRoutes } from './limits'
import { membershipRoutes } from './memberships'
import { oidcClientFor } from './oidc'
import { apiDocument, DOCS_HTML, DOCS_JS } from './api-docs'
import { errorPage } from './pages'
import { projectRoutes } from './projects'
import { requestLogRoutes } from './request-log'
import { sessionRoutes } from './session-routes'
import { createFirstStartLink, isEmpty } from './setup'
import type { CookieJar } from './session'
import { finishLogin, invitePage, redeemSetupForm, setupPage, startLogin, type SignInRequest } from './signin'
import { serveUi } from './ui'
import { usageRoutes } from './usage-routes'
import { userRoutes } from './users'

export interface AdminState {
  ctx: AdminContext
  stop(): Promise<void>
}

export interface AdminOptions {
  configPath?: string
  /** Where the first-start setup link goes (default: the console). */
  announce?: (line: string) => void
  /** Called after limits change through the API (the spend engine re-reads them). */
  onLimitsChanged?: () => void | Promise<void>
}

/** Loads the directory (failing on ids declared in both config and database) and applies the merged config. */
export async function startAdmin(gw: Gateway, opts: AdminOptions = {}): Promise<AdminState> {
  const config = gw.config
  const boxProblem = secretKeyProblem(config.secrets.key)
  const box = boxProblem ? undefined : await SecretBox.fromSecret(config.secrets.key!)
  // On a local file, gw.database.db runs its queries off the event loop (src/db/off-thread.ts).
  const db = gw.database.db
  const dir = new Directory(db, config, box, (merged) => gw.applyConfig(merged), opts.configPath)
  await dir.start()
  const ctx: AdminContext = {
    gw,
    db,
    config,
    dir,
    box,
    boxProblem,
    oidc: oidcClientFor(undefined, config.auth.oidc),
    started: config,
    now: Date.now,
    attempts: new FailedAttempts(config.admin.max_failed_attempts, config.admin.failed_attempts_window_seconds * 1000),
    trusted: new TrustedProxies(config.server.trusted_proxies),
    keysChanged: (id) => gw.keys.reload(id),
    limitsChanged: async () => {
      await opts.onLimitsChanged?.()
    },
  }
  // SIGHUP: [auth.oidc] applies from the next sign-in (domains, admin emails, groups, the client itself).
  gw.onReload((next) => {
    // The attempt limits and trusted proxies apply at once; counts so far are kept.
    ctx.attempts.limit = next.admin.max_failed_attempts
    ctx.attempts.windowMs = next.admin.failed_attempts_window_seconds * 1000
    ctx.trusted = new TrustedProxies(next.server.trusted_proxies)
    const before = ctx.oidc
    ctx.oidc = oidcClientFor(before, next.auth.oidc)
    if (ctx.oidc !== before) console.error(`SIGHUP: note: [auth.oidc] ${next.auth.oidc ? 'changed' : 'removed'}; it applies from the next sign-in`)
  })

  if (config.admin.enabled && (await isEmpty(ctx.db))) {
    const link = await createFirstStartLink(ctx.db, publicBase(config))
    const say = opts.announce ?? console.log
    if (link) say(`admin: no administrator yet. Open this one-time setup link within 24 hours to create the first one: ${link}`)
    else say('admin: no administrator yet. A setup link printed by an earlier start (or another instance) is still pending; `tollgate admin bootstrap` prints a new one.')
  }
  return {
    ctx,
    stop: async () => {
      dir.stop()
    },
  }
}

let seed = 0

const ROUTES = [sessionRoutes, projectRoutes, userRoutes, membershipRoutes, invitationRoutes, credentialRoutes, keyRoutes, limitRoutes, usageRoutes, requestLogRoutes, auditRoutes, adminTokenRoutes]

export function adminPlugin(gw: Gateway) {
  const app = new Elysia({ name: 'admin', prefix: '/admin', seed: ++seed })
  const state = gw.admin
  if (!state) return app
  const { ctx } = state
  // Each resource adds its routes to the one API instance, behind its authentication.
  const api = adminApi(ctx)
  for (const add of ROUTES) add(api)
  return app
    .use(api)
    .use(apiDocument())
    .get('/api/docs', () => new Response(DOCS_HTML, { headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'" } }))
    .get('/api/docs.js', () => new Response(DOCS_JS, { headers: { 'content-type': 'text/javascript; charset=utf-8' } }))
    .all('/api/*', () => new AdminError(404, 'not_found', 'No such admin API endpoint; see /admin/api/docs.').toResponse())
    .get('/auth/login', ({ request, cookie, server }) => signInRoute(ctx, { request, cookie, server }, startLogin))
    .get('/auth/callback', ({ request, cookie, server }) => signInRoute(ctx, { request, cookie, server }, finishLogin))
    .get('/setup', ({ request, cookie, server }) => signInRoute(ctx, { request, cookie, server }, setupPage))
    .post('/setup', ({ request, cookie, server }) => signInRoute(ctx, { request, cookie, server }, redeemSetupForm), { parse: 'none' })
    .get('/invite', ({ request, cookie, server }) => signInRoute(ctx, { request, cookie, server }, invitePage))
    .get('/', () => serveUi('/'))
    .get('/assets/*', ({ request }) => serveUi(new URL(request.url).pathname.slice('/admin'.length)))
    .all('/*', () => errorPage('Not found', 'There is no such page.', 404))
}

/**
 * A sign-in page (login, callback, setup or invitation link): an address past its failed
 * attempts gets a 429 page with retry-after before any link or state is looked up.
 */
async function signInRoute(
  ctx: AdminContext,
  c: { request: Request; cookie: CookieJar; server: PeerSource | null },
  handler: (ctx: AdminContext, r: SignInRequest) => Promise<Response>,
): Promise<Response> {
  const address = clientAddress(c.request, c.server, ctx.trusted)
  const wait = ctx.attempts.retryAfter(address)
  if (wait !== undefined) {
    const res = errorPage('Too many attempts', `Too many failed sign-in attempts from your address. Try again in ${wait} seconds.`, 429)
    res.headers.set('retry-after', String(wait))
    return res
  }
  return handler(ctx, { request: c.request, cookie: c.cookie, address })
}
