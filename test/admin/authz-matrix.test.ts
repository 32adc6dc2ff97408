/**
 * The admin API's authorization matrix: every endpoint × each role (org admin, alpha's project
 * admin, alpha's member) × (own object in alpha, beta's object, nonexistent object). Asserts the
 * status, that a refusal carries no details (404 bodies are identical whether the object
 * exists or not), that lists never show beta's objects to alpha's people, and that no secret
 * appears anywhere. Changing endpoints run on a fresh copy of the organisation per role.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { buildFixture, cloneFixture, keyIds, secretsOf, type Fixture, type Role } from './fixture'

type Target = 'own' | 'other' | 'none'
/** Expected status per role, for [own, other, none]. */
type Expect = Record<Role, [number, number, number]>

interface Case {
  method: string
  /** The route as the router declares it, to prove every endpoint is covered. */
  route: string
  path: (t: Target) => string
  body?: (t: Target, n: number) => unknown
  expect: Expect
  mutates?: boolean
}

const V = '/admin/api/v1'
const proj = { own: 'alpha', other: 'beta', none: 'nope' }
const user = { own: 'mem', other: 'other', none: 'ghost' }
const key = { own: '{kmem}', other: '{kother}', none: 'nokey0000000' }
const prov = { own: 'alpha-openai', other: 'beta-openai', none: 'nope' }

// Common shapes of expectation.
const seeAll: Expect = { org: [200, 200, 404], pa: [200, 404, 404], mem: [200, 404, 404] }
const adminOnlyInProject: Expect = { org: [200, 200, 404], pa: [200, 404, 404], mem: [403, 404, 404] }
const orgOnlyWrite: Expect = { org: [200, 200, 404], pa: [403, 404, 404], mem: [403, 404, 404] }

let counter = 0
const cases: Case[] = [
  { method: 'GET', route: '/projects/:id', path: (t) => `${V}/projects/${proj[t]}`, expect: seeAll },
  { method: 'PATCH', route: '/projects/:id', path: (t) => `${V}/projects/${proj[t]}`, body: () => ({ name: 'Renamed' }), expect: adminOnlyInProject },
  // Both projects still hold active keys, so even an org admin gets 409 and nothing changes.
  { method: 'DELETE', route: '/projects/:id', path: (t) => `${V}/projects/${proj[t]}`, expect: { org: [409, 409, 404], pa: [403, 404, 404], mem: [403, 404, 404] } },
  { method: 'GET', route: '/projects/:id/members', path: (t) => `${V}/projects/${proj[t]}/members`, expect: adminOnlyInProject },
  {
    method: 'POST',
    route: '/projects/:id/members',
    path: (t) => `${V}/projects/${proj[t]}/members`,
    body: (t) => ({ user: t === 'other' ? 'other' : 'mem', role: 'member' }),
    expect: { org: [409, 409, 404], pa: [409, 404, 404], mem: [403, 404, 404] },
  },
  { method: 'PATCH', route: '/projects/:id/members/:user', path: (t) => `${V}/projects/${proj[t]}/members/${t === 'other' ? 'other' : 'mem'}`, body: () => ({ role: 'member' }), expect: adminOnlyInProject },
  { method: 'DELETE', route: '/projects/:id/members/:user', path: (t) => `${V}/projects/${proj[t]}/members/${t === 'other' ? 'other' : 'mem'}`, expect: adminOnlyInProject, mutates: true },
  { method: 'GET', route: '/projects/:id/invitations', path: (t) => `${V}/projects/${proj[t]}/invitations`, expect: adminOnlyInProject },
  {
    method: 'POST',
    route: '/projects/:id/invitations',
    path: (t) => `${V}/projects/${proj[t]}/invitations`,
    body: () => ({ role: 'member' }),
    expect: { org: [201, 201, 404], pa: [201, 404, 404], mem: [403, 404, 404] },
  },
  { method: 'DELETE', route: '/invitations/:id', path: (t) => `${V}/invitations/${t === 'none' ? 'noinvite0000' : `{inv_${t}}`}`, expect: adminOnlyInProject, mutates: true },
  { method: 'GET', route: '/users/:id', path: (t) => `${V}/users/${user[t]}`, expect: seeAll },
  { method: 'PATCH', route: '/users/:id', path: (t) => `${V}/users/${user[t]}`, body: () => ({ name: 'Renamed' }), expect: orgOnlyWrite },
  { method: 'DELETE', route: '/users/:id', path: (t) => `${V}/users/${user[t]}`, expect: orgOnlyWrite, mutates: true },
  { method: 'GET', route: '/providers/:id', path: (t) => `${V}/providers/${prov[t]}`, expect: seeAll },
  { method: 'PATCH', route: '/providers/:id', path: (t) => `${V}/providers/${prov[t]}`, body: () => ({ enabled: true }), expect: adminOnlyInProject },
  { method: 'DELETE', route: '/providers/:id', path: (t) => `${V}/providers/${prov[t]}`, expect: adminOnlyInProject, mutates: true },
  { method: 'POST', route: '/providers/:id/test', path: (t) => `${V}/providers/${prov[t]}/test`, expect: adminOnlyInProject },
  {
    method: 'POST',
    route: '/providers',
    path: () => `${V}/providers`,
    body: (t, n) => ({ id: `p${n}`, api: 'openai', api_key: 'sk-test-0000000000000000000000', project: proj[t] }),
    expect: { org: [201, 201, 404], pa: [201, 404, 404], mem: [403, 404, 404] },
  },
  // Where a provider points and what it sends (issue 15): base_url beyond [admin] allowed_base_urls
  // and extra headers are the org admins' only; refused header names are refused even for them.
  {
    method: 'POST',
    route: '/providers',
    path: () => `${V}/providers`,
    body: (t, n) => ({ id: `p${n}`, api: 'openai', api_key: 'sk-test-0000000000000000000000', project: proj[t], base_url: 'http://127.0.0.1:9/elsewhere' }),
    expect: { org: [201, 201, 404], pa: [403, 404, 404], mem: [403, 404, 404] },
  },
  {
    method: 'POST',
    route: '/providers',
    path: () => `${V}/providers`,
    body: (t, n) => ({ id: `p${n}`, api: 'openai', api_key: 'sk-test-0000000000000000000000', project: proj[t], base_url: 'http://127.0.0.1:9/v1' }),
    expect: { org: [201, 201, 404], pa: [201, 404, 404], mem: [403, 404, 404] },
  },
  {
    method: 'POST',
    route: '/providers',
    path: () => `${V}/providers`,
    body: (t, n) => ({ id: `p${n}`, api: 'openai', api_key: 'sk-test-0000000000000000000000', project: proj[t], headers: { 'OpenAI-Organization': 'org-1' } }),
    expect: { org: [201, 201, 404], pa: [403, 404, 404], mem: [403, 404, 404] },
  },
  {
    method: 'POST',
    route: '/providers',
    path: () => `${V}/providers`,
    body: (t, n) => ({ id: `p${n}`, api: 'openai', api_key: 'sk-test-0000000000000000000000', project: proj[t], headers: { Host: 'metadata.google.internal' } }),
    expect: { org: [400, 400, 404], pa: [403, 404, 404], mem: [403, 404, 404] },
  },
  { method: 'PATCH', route: '/providers/:id', path: (t) => `${V}/providers/${prov[t]}`, body: () => ({ base_url: 'http://127.0.0.1:9/elsewhere' }), expect: orgOnlyWrite },
  { method: 'PATCH', route: '/providers/:id', path: (t) => `${V}/providers/${prov[t]}`, body: () => ({ base_url: 'http://127.0.0.1:9/v1' }), expect: adminOnlyInProject },
  { method: 'GET', route: '/keys/:id', path: (t) => `${V}/keys/${key[t]}`, expect: seeAll },
  { method: 'PATCH', route: '/keys/:id', path: (t) => `${V}/keys/${key[t]}`, body: () => ({ name: 'renamed' }), expect: seeAll },
  { method: 'POST', route: '/keys/:id/revoke', path: (t) => `${V}/keys/${key[t]}/revoke`, expect: seeAll, mutates: true },
  // A project key: project admins only.
  { method: 'POST', route: '/keys', path: () => `${V}/keys`, body: (t) => ({ project: proj[t], user: null }), expect: { org: [201, 201, 404], pa: [201, 404, 404], mem: [403, 404, 404] } },
  { method: 'GET', route: '/limits/:scope/:id', path: (t) => `${V}/limits/project/${proj[t]}`, expect: seeAll },
  { method: 'PUT', route: '/limits/:scope/:id', path: (t) => `${V}/limits/project/${proj[t]}`, body: () => ({ daily_nanos: 5_000_000_000 }), expect: orgOnlyWrite },
  { method: 'GET', route: '/limits/:scope/:id', path: (t) => `${V}/limits/user/${user[t]}`, expect: seeAll },
  { method: 'PUT', route: '/limits/:scope/:id', path: (t) => `${V}/limits/user/${user[t]}`, body: () => ({ daily_nanos: 5_000_000_000 }), expect: orgOnlyWrite },
  { method: 'GET', route: '/limits/:scope/:id', path: (t) => `${V}/limits/key/${key[t]}`, expect: seeAll },
  { method: 'PUT', route: '/limits/:scope/:id', path: (t) => `${V}/limits/key/${key[t]}`, body: () => ({ daily_nanos: 5_000_000_000 }), expect: adminOnlyInProject },
  { method: 'GET', route: '/usage/summary', path: (t) => `${V}/usage/summary?project=${proj[t]}`, expect: seeAll },
  { method: 'GET', route: '/usage/summary', path: (t) => `${V}/usage/summary?user=${user[t]}`, expect: seeAll },
  { method: 'GET', route: '/usage/summary', path: (t) => `${V}/usage/summary?key=${key[t]}`, expect: seeAll },
  { method: 'GET', route: '/usage/series', path: (t) => `${V}/usage/series?group=model&project=${proj[t]}`, expect: seeAll },
  { method: 'GET', route: '/request-log', path: (t) => `${V}/request-log?project=${proj[t]}`, expect: seeAll },
  { method: 'GET', route: '/request-log', path: (t) => `${V}/request-log?key=${key[t]}`, expect: seeAll },
  { method: 'GET', route: '/request-log/:id', path: (t) => `${V}/request-log/${{ own: 'log-alpha-1', other: 'log-beta-1', none: 'nolog' }[t]}`, expect: seeAll },
  { method: 'GET', route: '/keys', path: (t) => `${V}/keys?project=${proj[t]}`, expect: seeAll },
]

/** Endpoints with no object: one expectation per role. */
const collection: { method: string; route: string; path: string; body?: (n: number) => unknown; expect: Record<Role, number> }[] = [
  { method: 'GET', route: '/session', path: `${V}/session`, expect: { org: 200, pa: 200, mem: 200 } },
  { method: 'GET', route: '/settings', path: `${V}/settings`, expect: { org: 200, pa: 403, mem: 403 } },
  { method: 'GET', route: '/projects', path: `${V}/projects`, expect: { org: 200, pa: 200, mem: 200 } },
  { method: 'POST', route: '/projects', path: `${V}/projects`, body: (n) => ({ id: `new${n}` }), expect: { org: 201, pa: 403, mem: 403 } },
  { method: 'GET', route: '/users', path: `${V}/users`, expect: { org: 200, pa: 200, mem: 200 } },
  { method: 'POST', route: '/users', path: `${V}/users`, body: (n) => ({ id: `u${n}` }), expect: { org: 201, pa: 403, mem: 403 } },
  { method: 'GET', route: '/providers', path: `${V}/providers`, expect: { org: 200, pa: 200, mem: 200 } },
  { method: 'GET', route: '/keys', path: `${V}/keys`, expect: { org: 200, pa: 200, mem: 200 } },
  // A personal key (no user given): the org admin is not a member of alpha.
  { method: 'POST', route: '/keys', path: `${V}/keys`, body: () => ({ project: 'alpha' }), expect: { org: 400, pa: 201, mem: 201 } },
  { method: 'GET', route: '/usage/summary', path: `${V}/usage/summary`, expect: { org: 200, pa: 200, mem: 200 } },
  { method: 'GET', route: '/usage/series', path: `${V}/usage/series`, expect: { org: 200, pa: 200, mem: 200 } },
  { method: 'GET', route: '/request-log', path: `${V}/request-log`, expect: { org: 200, pa: 200, mem: 200 } },
  { method: 'GET', route: '/audit', path: `${V}/audit`, expect: { org: 200, pa: 200, mem: 200 } },
  { method: 'GET', route: '/admin-tokens', path: `${V}/admin-tokens`, expect: { org: 200, pa: 403, mem: 403 } },
  { method: 'POST', route: '/admin-tokens', path: `${V}/admin-tokens`, body: () => ({ role: 'org_admin', name: 'ci' }), expect: { org: 201, pa: 403, mem: 403 } },
  { method: 'DELETE', route: '/admin-tokens/:id', path: `${V}/admin-tokens/notoken00000`, expect: { org: 404, pa: 403, mem: 403 } },
  { method: 'DELETE', route: '/session', path: `${V}/session`, expect: { org: 200, pa: 200, mem: 200 } },
]

/** What alpha's people must never see in any answer. */
const BETA_ONLY = ['beta-openai', 'log-beta-1', '"other"', 'other@example.com', 'pb@example.com', 'other laptop', 'beta service']

let fx: Fixture
let secrets: string[]
const roles: Role[] = ['org', 'pa', 'mem']
const targets: Target[] = ['own', 'other', 'none']

function resolve(path: string): string {
  return path.replace('{inv_own}', fx.invitations.alpha).replace('{inv_other}', fx.invitations.beta)
}

function checkAnswer(role: Role, status: number, text: string, what: string): void {
  for (const s of secrets) expect(text.includes(s), `${what}: a secret leaked`).toBe(false)
  if (status === 404) expect(JSON.parse(text).error.code, what).toBe('not_found')
  if (status === 403) expect(Object.keys(JSON.parse(text).error).sort(), what).toEqual(['code', 'message'])
  if (role !== 'org' && status < 300) for (const b of BETA_ONLY) expect(text.includes(b), `${what}: shows ${b}`).toBe(false)
}

/** Everything the gateway prints while the matrix runs: no secret may show up in it. */
const printed: string[] = []
const original = { log: console.log, error: console.error, warn: console.warn }

beforeAll(async () => {
  for (const k of ['log', 'error', 'warn'] as const) console[k] = (...a: unknown[]) => void printed.push(a.map(String).join(' '))
  fx = await buildFixture()
  secrets = secretsOf(fx)
})
afterAll(async () => {
  Object.assign(console, original)
  await fx.close()
})

test('the matrix covers every endpoint of the API (as its OpenAPI document lists them)', async () => {
  const doc = (await (await fx.gw.app.handle(new Request('http://127.0.0.1/admin/api/openapi.json'))).json()) as { paths: Record<string, Record<string, unknown>> }
  const declared = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.slice(V.length).replace(/\{([^}]+)\}/g, ':$1')}`)))
  const covered = new Set([...cases, ...collection].map((c) => `${c.method} ${c.route}`))
  expect([...declared].filter((d) => !covered.has(d))).toEqual([])
  expect([...covered].filter((c) => !declared.has(c))).toEqual([])
})

// Read-only checks first: the matrix below creates keys, projects and invitations.
test('a 404 for an object out of reach is byte-identical to one for an object that does not exist', async () => {
  for (const [a, b] of [
    [`${V}/projects/beta`, `${V}/projects/nope`],
    [`${V}/keys/{kother}`, `${V}/keys/nokey0000000`],
    [`${V}/providers/beta-openai`, `${V}/providers/nope`],
    [`${V}/users/other`, `${V}/users/ghost`],
    [`${V}/request-log/log-beta-1`, `${V}/request-log/nolog`],
  ] as const) {
    const x = await fx.api('pa', 'GET', a)
    const y = await fx.api('pa', 'GET', b)
    expect(x.status).toBe(404)
    expect(x.text).toBe(y.text)
  }
})

test('lists are scoped: alpha people see alpha, the org admin sees both', async () => {
  const ids = keyIds(fx)
  const keysOf = async (role: Role) => ((await fx.api(role, 'GET', `${V}/keys`)).json.keys as { id: string }[]).map((k) => k.id).sort()
  expect(await keysOf('mem')).toEqual([ids.kmem])
  expect(await keysOf('pa')).toEqual([ids.kalpha, ids.kmem].sort())
  expect(await keysOf('org')).toEqual(expect.arrayContaining([ids.kalpha, ids.kmem, ids.kother, ids.kbeta, 'cfg-key']))
  const log = async (role: Role) => ((await fx.api(role, 'GET', `${V}/request-log`)).json.entries as { id: string }[]).map((e) => e.id).sort()
  expect(await log('mem')).toEqual(['log-alpha-1'])
  expect(await log('pa')).toEqual(['log-alpha-1', 'log-alpha-2'])
  expect(await log('org')).toEqual(['log-alpha-1', 'log-alpha-2', 'log-beta-1'])
  const projects = async (role: Role) => ((await fx.api(role, 'GET', `${V}/projects`)).json.projects as { id: string }[]).map((p) => p.id).sort()
  expect(await projects('mem')).toEqual(['alpha'])
  expect(await projects('org')).toEqual(['alpha', 'beta', 'default'])
  const users = async (role: Role) => ((await fx.api(role, 'GET', `${V}/users`)).json.users as { id: string }[]).map((u) => u.id).sort()
  expect(await users('mem')).toEqual(['mem'])
  expect(await users('pa')).toEqual(['mem', 'pa'])
  const providers = async (role: Role) => ((await fx.api(role, 'GET', `${V}/providers`)).json.providers as { id: string }[]).map((p) => p.id).sort()
  expect(await providers('mem')).toEqual(['alpha-openai', 'cfg-openai', 'org-openai'])
  const audit = (await fx.api('pa', 'GET', `${V}/audit`)).json.entries as { project: string | null; actor: string }[]
  expect(audit.length).toBeGreaterThan(0)
  expect(audit.every((e) => e.project === 'alpha' || e.actor === 'pa')).toBe(true)
  const summary = (await fx.api('mem', 'GET', `${V}/usage/summary`)).json
  expect(summary.day.spend_nanos).toBe(1500)
  expect(summary.day.requests).toBe(1)
})

describe('object endpoints', () => {
  for (const c of cases) {
    test(`${c.method} ${c.path('own')}`, async () => {
      for (const role of roles) {
        // Changing endpoints: a fresh copy per role, so one role's success cannot hide another's.
        const f = c.mutates ? await cloneFixture(fx) : fx
        try {
          for (const t of targets) {
            const what = `${role} ${c.method} ${c.path(t)}`
            const r = await f.api(role, c.method, resolve(c.path(t)), c.body?.(t, ++counter))
            expect(`${what} → ${r.status}`).toBe(`${what} → ${c.expect[role][targets.indexOf(t)]}`)
            checkAnswer(role, r.status, r.text, what)
          }
        } finally {
          if (f !== fx) await f.close()
        }
      }
    })
  }
})

describe('collection endpoints', () => {
  for (const c of collection) {
    test(`${c.method} ${c.path}`, async () => {
      for (const role of roles) {
        const f = c.route === '/session' && c.method === 'DELETE' ? await cloneFixture(fx) : fx
        try {
          const r = await f.api(role, c.method, c.path, c.body?.(++counter))
          expect(`${role} → ${r.status}`).toBe(`${role} → ${c.expect[role]}`)
          checkAnswer(role, r.status, r.text, `${role} ${c.method} ${c.path}`)
        } finally {
          if (f !== fx) await f.close()
        }
      }
    })
  }
})

test('no credential, no gateway key as credential, no CSRF token: refused', async () => {
  for (const c of [...cases.map((x) => ({ method: x.method, path: resolve(x.path('own')) })), ...collection]) {
    expect((await fx.api(undefined, c.method, c.path)).status).toBe(401)
    // A gateway key is not an admin credential.
    expect((await fx.api({ bearer: fx.keySecrets.kmem! }, c.method, c.path)).status).toBe(401)
  }
  const noCsrf = await fx.api({ ...fx.callers.org, csrf: 'wrong' }, 'POST', `${V}/projects`, { id: 'csrf-probe' })
  expect(noCsrf.status).toBe(403)
  expect(noCsrf.json.error.code).toBe('csrf_failed')
  const crossSite = await fx.api('org', 'POST', `${V}/projects`, { id: 'csrf-probe' }, { origin: 'https://evil.example' })
  expect(crossSite.status).toBe(403)
  expect((await fx.api('org', 'GET', `${V}/projects/csrf-probe`)).status).toBe(404)
})

test('an admin token works without CSRF and is scoped to its role', async () => {
  const r = await fx.api({ bearer: fx.orgToken }, 'POST', `${V}/projects`, { id: 'via-token' })
  expect(r.status).toBe(201)
  const t = await fx.api({ bearer: fx.orgToken }, 'POST', `${V}/admin-tokens`, { role: 'project_admin', project: 'alpha' })
  expect(t.status).toBe(201)
  const pa = { bearer: t.json.secret as string }
  expect((await fx.api(pa, 'GET', `${V}/projects/alpha/members`)).status).toBe(200)
  expect((await fx.api(pa, 'GET', `${V}/projects/beta`)).status).toBe(404)
  expect((await fx.api(pa, 'POST', `${V}/projects`, { id: 'nope2' })).status).toBe(403)
  expect((await fx.api({ bearer: fx.orgToken }, 'DELETE', `${V}/admin-tokens/${t.json.token.id}`)).status).toBe(200)
  expect((await fx.api(pa, 'GET', `${V}/projects/alpha`)).status).toBe(401)
})

test('secret canaries: nothing secret in logs, the audit log or any admin table', async () => {
  const db = fx.gw.database.client
  const tables = ['admin_audit', 'admin_users', 'admin_projects', 'admin_memberships', 'admin_providers', 'admin_invitations', 'admin_sessions', 'admin_tokens', 'admin_identities', 'admin_login_states', 'admin_setup_links', 'request_log']
  const dump: string[] = []
  for (const t of tables) dump.push(JSON.stringify((await db.execute(`SELECT * FROM ${t}`)).rows))
  const raw = Object.values(fx.keySecrets)
  for (const s of [...secrets.filter((x) => !/^[0-9a-f]{64}$/.test(x)), ...raw]) {
    expect(dump.join('\n').includes(s), 'a secret is stored in clear').toBe(false)
    expect(printed.join('\n').includes(s), 'a secret was printed').toBe(false)
  }
  const audit = await fx.api('org', 'GET', `${V}/audit?limit=500`)
  expect(audit.json.entries.length).toBeGreaterThan(10)
  for (const s of secrets) expect(audit.text.includes(s)).toBe(false)
})

test('entities from config.toml are listed as "from config" and are read-only; their ids cannot be taken', async () => {
  const projects = (await fx.api('org', 'GET', `${V}/projects`)).json.projects as { id: string; source: string }[]
  expect(projects.find((p) => p.id === 'default')?.source).toBe('config')
  for (const [method, path, body] of [
    ['PATCH', `${V}/projects/default`, { name: 'x' }],
    ['PUT', `${V}/limits/project/default`, { daily_nanos: 1 }],
    ['PATCH', `${V}/providers/cfg-openai`, { enabled: false }],
    ['POST', `${V}/keys/cfg-key/revoke`, undefined],
    ['PATCH', `${V}/users/cfguser`, { name: 'x' }],
  ] as const) {
    const r = await fx.api('org', method, path, body)
    expect(`${method} ${path} → ${r.status} ${r.json.error.code}`).toBe(`${method} ${path} → 409 from_config`)
  }
  expect((await fx.api('org', 'POST', `${V}/projects`, { id: 'default' })).status).toBe(409)
  expect((await fx.api('org', 'POST', `${V}/providers`, { id: 'cfg-openai', api: 'openai', api_key: 'sk-test-000000000000000000' })).status).toBe(409)
  expect((await fx.api('org', 'POST', `${V}/users`, { id: 'cfguser' })).status).toBe(409)
})

test('validation: unknown fields and wrong types are 400 with the field named, never a 5xx', async () => {
  const r = await fx.api('org', 'POST', `${V}/projects`, { id: 'ok-id', colour: 'red' })
  expect(r.status).toBe(400)
  expect(r.json.error.message).toContain('body.colour')
  const t = await fx.api('org', 'PUT', `${V}/limits/project/alpha`, { daily_nanos: -5 })
  expect(t.status).toBe(400)
  expect(t.json.error.message).toContain('daily_nanos')
  const bad = await fx.api('org', 'GET', `${V}/request-log?limit=abc`)
  expect(bad.status).toBe(400)
  const raw = await fx.gw.app.handle(new Request(`http://127.0.0.1${V}/projects`, { method: 'POST', headers: { authorization: `Bearer ${fx.orgToken}`, 'content-type': 'application/json' }, body: '{not json' }))
  expect(raw.status).toBe(400)
})
