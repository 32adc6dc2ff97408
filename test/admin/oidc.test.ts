/**
 * Sign-in through a real OpenID Provider (oidc-provider on loopback): login, invitation and
 * setup links redeemed by signing in, and the refusals: a wrong nonce, an email domain
 * outside allowed_domains, a callback from another browser, and a replayed callback. The ID
 * token checks one by one: test/admin/id-token.test.ts.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/load'
import { createGateway, type Gateway } from '../../src/gateway'
import { listen, type Listening } from '../../src/server'
import { createSetupLink } from '../../src/admin/setup'
import { adminIdentities, adminUsers } from '../../src/db/schema-admin'
import { CookieClient, startOp, type TestOp } from './op'
import { SECRET_KEY } from './fixture'

let op: TestOp
let gw: Gateway
let server: Listening
let base: string
let dir: string

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = s.port!
  s.stop(true)
  return port
}

beforeAll(async () => {
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  op = await startOp([`${base}/admin/auth/callback`])
  op.accounts.set('boss@example.com', { email: 'boss@example.com', name: 'Boss' })
  op.accounts.set('dev@example.com', { email: 'dev@example.com', name: 'Dev' })
  op.accounts.set('ops@example.com', { email: 'ops@example.com', groups: ['tollgate-admins'] })
  op.accounts.set('eve@evil.test', { email: 'eve@evil.test' })
  op.accounts.set('unverified@example.com', { email: 'unverified@example.com', email_verified: false })
  dir = mkdtempSync(join(tmpdir(), 'tollgate-oidc-'))
  const toml = `
[secrets]
key = "${SECRET_KEY}"

[auth.oidc]
issuer = "${op.issuer}"
client_id = "tollgate"
client_secret = "${op.clients[0]!.secret}"
redirect_url = "${base}/admin/auth/callback"
allowed_domains = ["example.com"]
admin_emails = ["boss@example.com"]
groups_claim = "groups"
admin_groups = ["tollgate-admins"]
scopes = ["openid", "email", "profile", "groups"]

[database]
url = "file:${join(dir, 'oidc.db')}"
`
  const log = console.log
  console.log = () => {}
  gw = await createGateway(await parseConfig(toml, 'test.toml', {}))
  server = listen(gw, `127.0.0.1:${port}`, 'test.toml')
  console.log = log
})

afterAll(async () => {
  await server.stop()
  await op.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** Starts sign-in at the gateway and returns the OP's login page URL. */
async function begin(browser: CookieClient, query = '', rewriteAuthorize: (u: string) => string = (u) => u) {
  const { res, url } = await browser.follow(`${base}/admin/auth/login${query}`, (u) => (u.startsWith(op.issuer) && u.includes('/auth?') ? rewriteAuthorize(u) : u))
  expect(res.status).toBe(200)
  expect(url).toContain('/interaction/')
  await res.body?.cancel()
  return url
}

async function me(browser: CookieClient) {
  const r = await browser.fetch(`${base}/admin/api/v1/session`)
  return { status: r.status, json: (await r.json()) as any }
}

test('sign-in: PKCE, state and nonce go to the provider; an admin email becomes org admin', async () => {
  const browser = new CookieClient()
  const login = await browser.fetch(`${base}/admin/auth/login`)
  const authorize = new URL(login.headers.get('location')!)
  expect(authorize.origin).toBe(op.issuer)
  expect(authorize.searchParams.get('code_challenge_method')).toBe('S256')
  expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/)
  expect(authorize.searchParams.get('state')!.length).toBeGreaterThan(30)
  expect(authorize.searchParams.get('nonce')!.length).toBeGreaterThan(30)
  const stateCookie = login.headers.getSetCookie().find((c) => c.startsWith('tollgate_oidc_state='))!
  expect(stateCookie).toContain('HttpOnly')
  expect(stateCookie).toContain('SameSite=Lax')
  const { res: page, url } = await browser.follow(authorize.toString())
  await page.body?.cancel()
  const done = await browser.signInAt(url, 'boss@example.com')
  expect(done.url).toBe(`${base}/admin/`)
  const session = browser.jar.get('127.0.0.1')!.get('tollgate_session')
  expect(session).toBeDefined()
  const who = await me(browser)
  expect(who.status).toBe(200)
  expect(who.json.user.email).toBe('boss@example.com')
  expect(who.json.org_role).toBe('admin')
  // Identity is the verified (iss, sub).
  const ids = await gw.database.db.select().from(adminIdentities)
  expect(ids.find((i) => i.email === 'boss@example.com')?.iss).toBe(op.issuer)
  // Signing in again reaches the same user.
  const again = new CookieClient()
  await again.signInAt(await begin(again), 'boss@example.com')
  expect((await me(again)).json.user.id).toBe(who.json.user.id)
  // Logout ends the session server-side.
  const out = await browser.fetch(`${base}/admin/api/v1/session`, { method: 'DELETE', headers: { 'x-csrf-token': who.json.csrf_token } })
  expect(out.status).toBe(200)
  expect((await browser.fetch(`${base}/admin/api/v1/session`, { headers: { cookie: `tollgate_session=${session}` } })).status).toBe(401)
})

test('session cookie: HttpOnly, SameSite=Lax, expiry; Secure when the browser came over TLS', async () => {
  const browser = new CookieClient()
  const url = await begin(browser)
  const res = await browser.fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=dev%40example.com' })
  let loc = res.headers.get('location')!
  let last: Response = res
  while (!loc.includes('/admin/auth/callback')) {
    last = await browser.fetch(new URL(loc, url).toString())
    loc = last.headers.get('location')!
  }
  const cb = await browser.fetch(loc, { headers: { 'x-forwarded-proto': 'https' } })
  const set = cb.headers.getSetCookie().find((c) => c.startsWith('tollgate_session='))!
  expect(set).toMatch(/HttpOnly/)
  expect(set).toMatch(/SameSite=Lax/)
  expect(set).toMatch(/Max-Age=43200/)
  expect(set).toMatch(/Secure/)
})

test('a groups claim makes an org admin; a new user otherwise is a member with no projects', async () => {
  const a = new CookieClient()
  await a.signInAt(await begin(a), 'ops@example.com')
  expect((await me(a)).json.org_role).toBe('admin')
  const b = new CookieClient()
  await b.signInAt(await begin(b), 'dev@example.com')
  const dev = await me(b)
  expect(dev.json.org_role).toBe('member')
  expect(dev.json.projects).toEqual([])
})

test('an invitation is redeemed by signing in, once', async () => {
  const boss = new CookieClient()
  await boss.signInAt(await begin(boss), 'boss@example.com')
  const csrf = (await me(boss)).json.csrf_token
  const call = (method: string, path: string, body?: unknown) =>
    boss.fetch(`${base}/admin/api/v1${path}`, { method, headers: { 'x-csrf-token': csrf, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined })
  expect((await call('POST', '/projects', { id: 'team' })).status).toBe(201)
  const inv = (await (await call('POST', '/projects/team/invitations', { role: 'admin' })).json()) as any
  const token = new URL(inv.url).searchParams.get('token')!
  const page = await new CookieClient().fetch(inv.url)
  expect(page.status).toBe(200)
  expect(await page.text()).toContain('Sign in to accept')
  const dev = new CookieClient()
  await dev.signInAt(await begin(dev, `?invitation=${encodeURIComponent(token)}`), 'dev@example.com')
  expect((await me(dev)).json.projects).toEqual([{ id: 'team', role: 'admin' }])
  // Used: the link is gone for everyone.
  const again = await new CookieClient().fetch(`${base}/admin/auth/login?invitation=${encodeURIComponent(token)}`)
  expect(again.status).toBe(410)
  const listed = (await (await call('GET', '/projects/team/invitations')).json()) as any
  expect(listed.invitations[0].status).toBe('redeemed')
})

test('a setup link redeemed by signing in makes an org admin, once', async () => {
  const link = await createSetupLink(gw.database.db, base)
  const token = new URL(link).searchParams.get('token')!
  op.accounts.set('newadmin@example.com', { email: 'newadmin@example.com' })
  const page = await new CookieClient().fetch(link)
  expect(await page.text()).toContain('Sign in to continue')
  const c = new CookieClient()
  await c.signInAt(await begin(c, `?setup=${encodeURIComponent(token)}`), 'newadmin@example.com')
  expect((await me(c)).json.org_role).toBe('admin')
  expect((await new CookieClient().fetch(`${base}/admin/auth/login?setup=${encodeURIComponent(token)}`)).status).toBe(410)
})

test('a wrong nonce is refused', async () => {
  const c = new CookieClient()
  const url = await begin(c, '', (u) => {
    const x = new URL(u)
    x.searchParams.set('nonce', 'attacker-chosen-nonce-0000000000000000000000')
    return x.toString()
  })
  const { res } = await c.signInAt(url, 'boss@example.com')
  expect(res.status).toBe(401)
  expect(await res.text()).toContain('nonce mismatch')
  expect(c.jar.get('127.0.0.1')?.has('tollgate_session')).toBe(false)
})

test('an email domain outside allowed_domains, or an unverified email, is refused and no user is made', async () => {
  const before = (await gw.database.db.select().from(adminUsers)).length
  for (const [email, why] of [['eve@evil.test', 'domain is not allowed'], ['unverified@example.com', 'only verified emails']]) {
    const c = new CookieClient()
    const { res } = await c.signInAt(await begin(c), email!)
    expect(res.status).toBe(403)
    expect(await res.text()).toContain(why!)
    expect(c.jar.get('127.0.0.1')?.has('tollgate_session')).toBe(false)
  }
  expect((await gw.database.db.select().from(adminUsers)).length).toBe(before)
})

test('a callback from another browser, or replayed, does nothing', async () => {
  const c = new CookieClient()
  const url = await begin(c)
  const res = await c.fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=boss%40example.com' })
  let loc = new URL(res.headers.get('location')!, url).toString()
  while (!loc.includes('/admin/auth/callback')) {
    const r = await c.fetch(loc)
    loc = new URL(r.headers.get('location')!, loc).toString()
  }
  // Another browser (no state cookie) presents the callback: refused.
  const other = await new CookieClient().fetch(loc)
  expect(other.status).toBe(400)
  // The right browser succeeds once; a replay fails.
  expect((await c.fetch(loc)).status).toBe(302)
  const state = new URL(loc).searchParams.get('state')!
  const replay = await new CookieClient().fetch(loc, { headers: { cookie: `tollgate_oidc_state=${state}` } })
  expect(replay.status).toBe(400)
})
