/**
 * Sign-in follows its settings: a SIGHUP-style reload of `[auth.oidc]` applies from the next
 * sign-in (domains, admin emails), roles from claims are lowered as well as raised (live
 * sessions follow; a role granted by hand stays), and only verified, well-formed emails sign in.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/load'
import { createGateway, type Gateway } from '../../src/gateway'
import { listen, type Listening } from '../../src/server'
import { adminUsers } from '../../src/db/schema-admin'
import { CookieClient, startOp, type TestOp } from './op'
import { SECRET_KEY } from './fixture'

let op: TestOp
let gw: Gateway
let server: Listening
let base: string
let dir: string

interface OidcOpts {
  allowed_domains?: string[]
  admin_emails?: string[]
  admin_groups?: string[]
}

function toml(o: OidcOpts): string {
  const list = (xs: string[] = []) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`
  return `
[secrets]
key = "${SECRET_KEY}"

[auth.oidc]
issuer = "${op.issuer}"
client_id = "tollgate"
client_secret = "${op.clients[0]!.secret}"
redirect_url = "${base}/admin/auth/callback"
allowed_domains = ${list(o.allowed_domains)}
admin_emails = ${list(o.admin_emails)}
groups_claim = "groups"
admin_groups = ${list(o.admin_groups)}
scopes = ["openid", "email", "profile", "groups"]

[database]
url = "file:${join(dir, 'signin.db')}"
`
}

async function reload(o: OidcOpts): Promise<string[]> {
  const err = console.error
  const lines: string[] = []
  console.error = (s: string) => void lines.push(String(s))
  try {
    await gw.reload(await parseConfig(toml(o), 'test.toml', {}))
  } finally {
    console.error = err
  }
  return lines
}

beforeAll(async () => {
  const s = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = s.port!
  s.stop(true)
  base = `http://127.0.0.1:${port}`
  op = await startOp([`${base}/admin/auth/callback`])
  for (const email of ['boss@example.com', 'dev@example.com', 'lead@example.com', 'hand@example.com', 'x@other.test']) op.accounts.set(email, { email })
  op.accounts.set('ops', { email: 'ops@example.com', groups: ['tollgate-admins'] })
  op.accounts.set('unverified', { email: 'unverified@example.com', email_verified: false })
  op.accounts.set('two-ats', { email: 'a@evil.com@example.com' })
  dir = mkdtempSync(join(tmpdir(), 'tollgate-signin-'))
  const log = console.log
  console.log = () => {}
  gw = await createGateway(await parseConfig(toml({ allowed_domains: ['example.com', 'other.test'], admin_emails: ['boss@example.com'], admin_groups: ['tollgate-admins'] }), 'test.toml', {}))
  server = listen(gw, `127.0.0.1:${port}`, 'test.toml')
  console.log = log
})

afterAll(async () => {
  await server.stop()
  await op.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function signIn(account: string): Promise<{ browser: CookieClient; res: Response }> {
  const browser = new CookieClient()
  const { res: page, url } = await browser.follow(`${base}/admin/auth/login`)
  expect(url).toContain('/interaction/')
  await page.body?.cancel()
  const { res } = await browser.signInAt(url, account)
  return { browser, res }
}

async function me(browser: CookieClient) {
  const r = await browser.fetch(`${base}/admin/api/v1/session`)
  return { status: r.status, json: (await r.json()) as any }
}

test('a reload applies allowed_domains and admin_emails from the next sign-in; settings show the values in force', async () => {
  expect((await me((await signIn('x@other.test')).browser)).status).toBe(200)
  const dev = await signIn('dev@example.com')
  expect((await me(dev.browser)).json.org_role).toBe('member')

  const lines = await reload({ allowed_domains: ['example.com'], admin_emails: ['boss@example.com', 'dev@example.com'], admin_groups: ['tollgate-admins'] })
  expect(lines.join('\n')).toContain('[auth.oidc] changed; it applies from the next sign-in')
  // The removed domain no longer signs in.
  const other = await signIn('x@other.test')
  expect(other.res.status).toBe(403)
  expect(await other.res.text()).toContain('domain is not allowed')
  // The added admin email makes an org admin at the next sign-in.
  const dev2 = await signIn('dev@example.com')
  expect((await me(dev2.browser)).json.org_role).toBe('admin')

  const boss = await signIn('boss@example.com')
  const settings = (await (await boss.browser.fetch(`${base}/admin/api/v1/settings`)).json()) as any
  expect(settings.oidc.allowed_domains).toEqual(['example.com'])
  expect(settings.oidc.admin_emails).toEqual(['boss@example.com', 'dev@example.com'])
  expect(settings.oidc.admin_groups).toEqual(['tollgate-admins'])
  expect(settings.pending_restart).toEqual([])
})

test('a role from admin_emails or a group is lowered when the claims stop granting it; live sessions follow', async () => {
  await reload({ allowed_domains: ['example.com'], admin_emails: ['lead@example.com'], admin_groups: ['tollgate-admins'] })
  const first = await signIn('lead@example.com')
  expect((await me(first.browser)).json.org_role).toBe('admin')
  const ops = await signIn('ops')
  expect((await me(ops.browser)).json.org_role).toBe('admin')

  // lead leaves admin_emails; ops leaves the admin group at the IdP.
  await reload({ allowed_domains: ['example.com'], admin_emails: [], admin_groups: ['tollgate-admins'] })
  op.accounts.set('ops', { email: 'ops@example.com', groups: ['staff'] })
  const again = await signIn('lead@example.com')
  expect((await me(again.browser)).json.org_role).toBe('member')
  // The session opened while lead was admin follows the user's role.
  expect((await me(first.browser)).json.org_role).toBe('member')
  expect((await me((await signIn('ops')).browser)).json.org_role).toBe('member')
  expect((await me(ops.browser)).json.org_role).toBe('member')
  // And raised again when the claims grant it again.
  op.accounts.set('ops', { email: 'ops@example.com', groups: ['tollgate-admins'] })
  expect((await me((await signIn('ops')).browser)).json.org_role).toBe('admin')
})

test('an admin role granted by hand is not lowered by a sign-in whose claims grant nothing', async () => {
  await reload({ allowed_domains: ['example.com'], admin_emails: ['boss@example.com'], admin_groups: ['tollgate-admins'] })
  const hand = await signIn('hand@example.com')
  const id = (await me(hand.browser)).json.user.id
  const boss = await signIn('boss@example.com')
  const csrf = (await me(boss.browser)).json.csrf_token
  const patch = await boss.browser.fetch(`${base}/admin/api/v1/users/${id}`, { method: 'PATCH', headers: { 'x-csrf-token': csrf, 'content-type': 'application/json' }, body: JSON.stringify({ role: 'admin' }) })
  expect(patch.status).toBe(200)
  await signIn('hand@example.com')
  expect((await me(hand.browser)).json.org_role).toBe('admin')
})

test('an unverified email is refused even with no allowed_domains; so is an address with two @', async () => {
  await reload({ allowed_domains: [], admin_emails: ['boss@example.com'], admin_groups: ['tollgate-admins'] })
  const before = (await gw.database.db.select().from(adminUsers)).length
  const unverified = await signIn('unverified')
  expect(unverified.res.status).toBe(403)
  expect(await unverified.res.text()).toContain('verified email')
  expect(unverified.browser.jar.get('127.0.0.1')?.has('tollgate_session')).toBe(false)

  await reload({ allowed_domains: ['example.com'], admin_emails: ['boss@example.com'], admin_groups: ['tollgate-admins'] })
  const twoAts = await signIn('two-ats')
  expect(twoAts.res.status).toBe(403)
  expect(twoAts.browser.jar.get('127.0.0.1')?.has('tollgate_session')).toBe(false)
  expect((await gw.database.db.select().from(adminUsers)).length).toBe(before)
})
