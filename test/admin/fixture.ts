/**
 * An organisation for admin API tests, built through the real gateway on a temp database:
 * projects alpha and beta (database) and default (config); an org admin (root), alpha's admin
 * (pa) and member (mem), beta's admin (pb) and member (other); providers, keys, invitations,
 * request-log rows and audit entries on both sides. Requests go through `gw.app.handle`.
 */
import { afterAll, beforeAll } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/load'
import { createGateway, type Gateway } from '../../src/gateway'
import { requestLog } from '../../src/db/schema'
import { adminInvitations, adminMemberships, adminProjects, adminUsers } from '../../src/db/schema-admin'
import { createSession } from '../../src/admin/session'
import { createAdminToken } from '../../src/admin/tokens'
import { sha256 } from '../../src/admin/crypto'
import { principalForUser, type Principal } from '../../src/admin/authz'
import type { AdminContext } from '../../src/admin/context'
import { AdminError } from '../../src/admin/errors'
import { CANARY } from '../support/gateway'

export const SECRET_KEY = 'test-secrets-key-CANARY-000000000000000000000001'
export const PROVIDER_KEYS = {
  org: 'sk-test-CANARY-admin-org-provider-000000000001',
  alpha: 'sk-test-CANARY-admin-alpha-provider-00000000001',
  beta: 'sk-test-CANARY-admin-beta-provider-000000000001',
}

export type Role = 'org' | 'pa' | 'mem'
export const ROLE_USER: Record<Role, string> = { org: 'root', pa: 'pa', mem: 'mem' }

export interface Caller {
  cookie: string
  csrf: string
  /** The raw session secret (must never appear in any answer). */
  secret: string
}

export interface Fixture {
  gw: Gateway
  dir: string
  callers: Record<Role, Caller>
  /** The secret of each gateway key by id. */
  keySecrets: Record<string, string>
  invitations: { alpha: string; beta: string }
  logRows: { alpha: string; beta: string }
  orgToken: string
  api(role: Role | Caller | { bearer: string } | undefined, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any; text: string; headers: Headers }>
  close(): Promise<void>
}

export function adminToml(extra = ''): string {
  return `
[secrets]
key = "${SECRET_KEY}"

[[providers]]
id = "cfg-openai"
api = "openai"
api_key = "${CANARY.openaiKey}"

[[projects]]
id = "default"

[[users]]
id = "cfguser"
email = "cfg@example.com"
projects = ["default"]

[[keys]]
id = "cfg-key"
project = "default"
user = "cfguser"
key = "${CANARY.gatewayKey}"

# The tests' upstreams are local servers: admin-made providers may reach them here.
[admin]
allow_private_upstreams = true
allowed_base_urls = ["http://127.0.0.1:9/v1"]
# In-process requests (app.handle) have no client address and share one count of failed
# sign-ins; these tests send many bad credentials on purpose (attempts.test.ts tests the limit).
max_failed_attempts = 1000000
${extra}`
}

export async function startAdminGateway(toml: string, dir = mkdtempSync(join(tmpdir(), 'tollgate-admin-'))) {
  const full = `${toml}\n\n[database]\nurl = "file:${join(dir, 'admin.db')}"\n\n[log]\nflush_interval_ms = 20\n`
  const loaded = await parseConfig(full, 'test.toml', process.env)
  const log = console.log
  console.log = () => {}
  try {
    // Request log lines go nowhere: these tests read the request log table.
    return { gw: await createGateway(loaded, { logOutput: { write: async () => {} } }), dir }
  } finally {
    console.log = log
  }
}

export async function request(gw: Gateway, who: Caller | { bearer: string } | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const h = new Headers(headers)
  if (who && 'bearer' in who) h.set('authorization', `Bearer ${who.bearer}`)
  else if (who) {
    h.set('cookie', who.cookie)
    if (method !== 'GET') h.set('x-csrf-token', who.csrf)
  }
  if (body !== undefined) h.set('content-type', 'application/json')
  const res = await gw.app.handle(new Request(`http://127.0.0.1${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) }))
  const text = await res.text()
  let json: any
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.status, json, text, headers: res.headers }
}

export async function sessionFor(gw: Gateway, userId: string): Promise<Caller> {
  const secret = await createSession(gw.admin!.ctx, userId)
  const cookie = `tollgate_session=${secret}`
  const me = await request(gw, { cookie, csrf: '', secret }, 'GET', '/admin/api/v1/session')
  return { cookie, csrf: me.json.csrf_token, secret }
}

export async function buildFixture(): Promise<Fixture> {
  const { gw, dir } = await startAdminGateway(adminToml())
  const db = gw.database.db
  const now = Date.now()
  await db.insert(adminProjects).values([
    { id: 'alpha', name: 'Alpha', createdAt: now },
    { id: 'beta', name: 'Beta', createdAt: now },
  ])
  await db.insert(adminUsers).values([
    { id: 'root', email: 'root@example.com', role: 'admin', createdAt: now },
    { id: 'pa', email: 'pa@example.com', role: 'member', createdAt: now },
    { id: 'mem', email: 'mem@example.com', role: 'member', createdAt: now },
    { id: 'pb', email: 'pb@example.com', role: 'member', createdAt: now },
    { id: 'other', email: 'other@example.com', role: 'member', createdAt: now },
  ])
  await db.insert(adminMemberships).values([
    { project: 'alpha', userId: 'pa', role: 'admin', createdAt: now },
    { project: 'alpha', userId: 'mem', role: 'member', createdAt: now },
    { project: 'beta', userId: 'pb', role: 'admin', createdAt: now },
    { project: 'beta', userId: 'other', role: 'member', createdAt: now },
  ])
  await gw.admin!.ctx.dir.reload()
  const callers = {} as Record<Role, Caller>
  for (const r of ['org', 'pa', 'mem'] as Role[]) callers[r] = await sessionFor(gw, ROLE_USER[r])
  const pb = await sessionFor(gw, 'pb')
  const other = await sessionFor(gw, 'other')

  const must = async (who: Caller, method: string, path: string, body: unknown) => {
    const r = await request(gw, who, method, path, body)
    if (r.status >= 300) throw new Error(`fixture: ${method} ${path} → ${r.status} ${r.text}`)
    return r.json
  }
  // Providers: one org-wide, one owned by each project (pointed at a closed port: tests never reach them).
  await must(callers.org, 'POST', '/admin/api/v1/providers', { id: 'org-openai', api: 'openai', api_key: PROVIDER_KEYS.org, base_url: 'http://127.0.0.1:9/v1' })
  await must(callers.pa, 'POST', '/admin/api/v1/providers', { id: 'alpha-openai', api: 'openai', api_key: PROVIDER_KEYS.alpha, base_url: 'http://127.0.0.1:9/v1', project: 'alpha' })
  await must(pb, 'POST', '/admin/api/v1/providers', { id: 'beta-openai', api: 'openai', api_key: PROVIDER_KEYS.beta, base_url: 'http://127.0.0.1:9/v1', project: 'beta' })
  // Keys: mem's and other's personal keys, and a project key in each project.
  const keySecrets: Record<string, string> = {}
  const key = async (who: Caller, body: Record<string, unknown>, alias: string) => {
    const k = await must(who, 'POST', '/admin/api/v1/keys', body)
    keySecrets[alias] = k.secret
    return k.key.id as string
  }
  const kmem = await key(callers.mem, { project: 'alpha', name: 'mem laptop' }, 'kmem')
  const kother = await key(other, { project: 'beta', name: 'other laptop' }, 'kother')
  const kalpha = await key(callers.pa, { project: 'alpha', user: null, name: 'alpha service' }, 'kalpha')
  const kbeta = await key(pb, { project: 'beta', user: null, name: 'beta service' }, 'kbeta')
  const inviteA = await must(callers.pa, 'POST', '/admin/api/v1/projects/alpha/invitations', { role: 'member' })
  const inviteB = await must(pb, 'POST', '/admin/api/v1/projects/beta/invitations', { role: 'member' })
  await db.insert(requestLog).values([
    { id: 'log-alpha-1', ts: now - 1000, keyId: kmem, project: 'alpha', user: 'mem', provider: 'alpha-openai', model: 'gpt-4o', method: 'POST', path: '/openai/chat/completions', status: 200, durationMs: 120, inputTokens: 10, outputTokens: 5, costNanos: 1500 },
    { id: 'log-beta-1', ts: now - 900, keyId: kother, project: 'beta', user: 'other', provider: 'beta-openai', model: 'gpt-4o-mini', method: 'POST', path: '/openai/chat/completions', status: 429, durationMs: 30, costNanos: 0, error: 'limit' },
    { id: 'log-alpha-2', ts: now - 800, keyId: kalpha, project: 'alpha', provider: 'alpha-openai', model: 'gpt-4o', method: 'POST', path: '/openai/chat/completions', status: 200, durationMs: 90, inputTokens: 7, outputTokens: 3, costNanos: 700 },
  ])
  const orgToken = (await createAdminToken(db, { role: 'org_admin', name: 'fixture' })).secret
  void kbeta
  const ids = { kmem, kother, kalpha, kbeta }
  // Aliases resolve to ids in paths: tests write `{kmem}`.
  const fx: Fixture = {
    gw,
    dir,
    callers,
    keySecrets,
    invitations: { alpha: inviteA.invitation.id, beta: inviteB.invitation.id },
    logRows: { alpha: 'log-alpha-1', beta: 'log-beta-1' },
    orgToken,
    api: (who, method, path, body, headers) => {
      const caller = typeof who === 'string' ? callers[who] : who
      const p = path.replace(/\{(k[a-z]+)\}/g, (_, a: string) => ids[a as keyof typeof ids] ?? a)
      return request(gw, caller, method, p, body, headers)
    },
    async close() {
      await gw.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  Object.assign(fx, { keyIds: ids })
  return fx
}

export function keyIds(fx: Fixture): Record<'kmem' | 'kother' | 'kalpha' | 'kbeta', string> {
  return (fx as unknown as { keyIds: Record<'kmem' | 'kother' | 'kalpha' | 'kbeta', string> }).keyIds
}

/** Every secret the fixture knows; none may appear in any answer, log or audit entry. */
export function secretsOf(fx: Fixture): string[] {
  return [
    SECRET_KEY,
    CANARY.openaiKey,
    CANARY.gatewayKey,
    ...Object.values(PROVIDER_KEYS),
    ...Object.values(fx.keySecrets),
    ...Object.values(fx.keySecrets).map(sha256),
    ...Object.values(fx.callers).map((c) => c.secret),
    fx.orgToken,
  ]
}

export { adminInvitations }

/**
 * A copy of a fixture on its own database file, for tests that change things: copying the
 * files is much cheaper than building the organisation again. Sessions and tokens carry over.
 */
export async function cloneFixture(base: Fixture): Promise<Fixture> {
  const { copyFileSync, existsSync } = await import('node:fs')
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-admin-clone-'))
  await base.gw.database.client.execute('PRAGMA wal_checkpoint(TRUNCATE)')
  for (const f of ['admin.db', 'admin.db-wal', 'admin.db-shm']) if (existsSync(join(base.dir, f))) copyFileSync(join(base.dir, f), join(dir, f))
  const { gw } = await startAdminGateway(adminToml(), dir)
  const ids = keyIds(base)
  const fx: Fixture = {
    ...base,
    gw,
    dir,
    api: (who, method, path, body, headers) => {
      const caller = typeof who === 'string' ? base.callers[who] : who
      const p = path.replace(/\{(k[a-z]+)\}/g, (_, a: string) => ids[a as keyof typeof ids] ?? a)
      return request(gw, caller, method, p, body, headers)
    },
    async close() {
      await gw.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  Object.assign(fx, { keyIds: ids })
  return fx
}

/** For a test file that calls service functions: a fixture built before its tests and closed after them. */
export function serviceFixture() {
  const f = {} as { fx: Fixture; ctx: AdminContext; ids: ReturnType<typeof keyIds>; as(userId: string): Principal }
  beforeAll(async () => {
    f.fx = await buildFixture()
    f.ctx = f.fx.gw.admin!.ctx
    f.ids = keyIds(f.fx)
    f.as = (userId) => principal(f.fx, userId)
  })
  afterAll(async () => {
    await f.fx.close()
  })
  return f
}

/** A user's principal as their session would carry it, for calling service functions without HTTP. */
export function principal(fx: Fixture, userId: string): Principal {
  const p = principalForUser(fx.gw.admin!.ctx.dir, userId, 'session')
  if (!p) throw new Error(`fixture: no user ${userId}`)
  return p
}

/** The admin error a call fails with, as `status code`; `done` when it does not fail. */
export async function refusal(call: Promise<unknown>): Promise<string> {
  try {
    await call
  } catch (e) {
    if (e instanceof AdminError) return `${e.status} ${e.code}`
    throw e
  }
  return 'done'
}
