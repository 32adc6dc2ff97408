/**
 * What the admin API creates works in the proxy at once: a provider entered through the API
 * (credential sealed at rest) serves requests from the official OpenAI SDK against a replay of
 * a real recording; a project's own provider is out of other projects' reach; a new key works
 * immediately, a revoked one fails on the next request; a lowered key limit refuses the next
 * request (spend engine). Without `[secrets] key` credentials are refused, with the reason.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { adminProviders } from '../../src/db/schema-admin'
import type { Listening } from '../../src/server'
import { listenQuietly } from '../support/gateway'
import { loadCassette } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'
import { adminToml, request, sessionFor, startAdminGateway, type Caller } from './fixture'
import type { Gateway } from '../../src/gateway'
import { rmSync } from 'node:fs'

const PROVIDER_KEY = 'sk-test-CANARY-integration-provider-0000000001'
let upstream: ReplayUpstream
let gw: Gateway
let dir: string
let server: Listening
let admin: Caller
const V = '/admin/api/v1'

beforeAll(async () => {
  const chat = (await loadCassette('openai', 'test_max_completion_tokens[gpt-4o-mini]')).interactions
  upstream = startReplayUpstream(chat)
  ;({ gw, dir } = await startAdminGateway(adminToml()))
  server = listenQuietly(gw)
  await gw.database.db.run(`INSERT INTO admin_users (id, role, created_at) VALUES ('root', 'admin', 0), ('dev', 'member', 0)` as never)
  await gw.admin!.ctx.dir.reload()
  admin = await sessionFor(gw, 'root')
})

afterAll(async () => {
  await server.stop()
  upstream.stop()
  rmSync(dir, { recursive: true, force: true })
})

const api = (method: string, path: string, body?: unknown, who: Caller = admin) => request(gw, who, method, path, body)
/** The SDK's error for a request that must fail (its promise is lazy, so settle it here). */
const failure = (p: PromiseLike<unknown>) =>
  Promise.resolve(p).then(
    () => undefined,
    (e) => e as { status: number; error?: { type?: string; code?: string } },
  )
const ask = (secret: string) =>
  new OpenAI({ apiKey: secret, baseURL: `${server.url}/openai-team`, maxRetries: 0 }).chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'hello' }],
    max_completion_tokens: 100,
    stream: false,
  })

test('a provider, project and key made through the API serve a real SDK request at once; revocation is immediate', async () => {
  expect((await api('POST', `${V}/projects`, { id: 'team' })).status).toBe(201)
  expect((await api('POST', `${V}/projects/team/members`, { user: 'dev', role: 'member' })).status).toBe(201)
  const prov = await api('POST', `${V}/providers`, { id: 'openai-team', api: 'openai', api_key: PROVIDER_KEY, base_url: `${upstream.url}/v1`, project: 'team' })
  expect(prov.status).toBe(201)
  expect(prov.json.key_last4).toBe(PROVIDER_KEY.slice(-4))
  expect(prov.text).not.toContain(PROVIDER_KEY)
  // Sealed at rest: the row holds ciphertext, never the key.
  const [row] = await gw.database.db.select().from(adminProviders)
  expect(row!.keyCiphertext).toMatch(/^v1:/)
  expect(JSON.stringify(row)).not.toContain(PROVIDER_KEY.slice(8, -4))

  const dev = await sessionFor(gw, 'dev')
  const created = await api('POST', `${V}/keys`, { project: 'team', name: 'laptop' }, dev)
  expect(created.status).toBe(201)
  const secret = created.json.secret as string
  const answer = await ask(secret)
  expect(answer.choices[0]!.message.content).toBe('Hello! How can I assist you today?')
  // The upstream got the decrypted credential, never the gateway key.
  expect(upstream.received.at(-1)!.headers.get('authorization')).toBe(`Bearer ${PROVIDER_KEY}`)

  const revoked = await api('POST', `${V}/keys/${created.json.key.id}/revoke`, undefined, dev)
  expect(revoked.json.status).toBe('revoked')
  expect((await failure(ask(secret)))?.status).toBe(401)
})

test("a project's own provider is out of other projects' reach", async () => {
  expect((await api('POST', `${V}/projects`, { id: 'elsewhere' })).status).toBe(201)
  const k = await api('POST', `${V}/keys`, { project: 'elsewhere', user: null })
  expect(k.status).toBe(201)
  const refused = await failure(ask(k.json.secret))
  expect(refused?.status).toBe(404)
  expect(refused?.error?.code).toBe('unknown_route')
  // Exactly what a route that does not exist answers: the id gives nothing away.
  const asked = (route: string) =>
    fetch(`${server.url}/${route}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${k.json.secret}`, 'content-type': 'application/json' }, body: '{"model":"gpt-4o-mini","messages":[]}' }).then(async (r) => ({
      status: r.status,
      body: (await r.text()).replaceAll(route, '<name>'),
    }))
  expect(await asked('openai-team')).toEqual(await asked('no-such-provider'))
  // And a key restricted to it from another project is refused at creation.
  expect((await api('POST', `${V}/keys`, { project: 'elsewhere', user: null, providers: ['openai-team'] })).status).toBe(400)
})

test('lowering a key limit refuses the next request (spend engine reads it)', async () => {
  const k = await api('POST', `${V}/keys`, { project: 'team', user: null, name: 'svc' })
  await ask(k.json.secret)
  await gw.requestLog.flush?.()
  const lowered = await api('PUT', `${V}/limits/key/${k.json.key.id}`, { daily_nanos: 1 })
  expect(lowered.status).toBe(200)
  expect(lowered.json.limits.daily_nanos).toBe(1)
  const err = await failure(ask(k.json.secret))
  expect(err?.status).toBe(429)
  expect(err?.error?.type).toBe('insufficient_quota')
  // A project limit set through the API holds too.
  expect((await api('PUT', `${V}/limits/key/${k.json.key.id}`, { daily_nanos: null })).status).toBe(200)
  expect((await api('PUT', `${V}/limits/project/team`, { daily_nanos: 1 })).status).toBe(200)
  expect((await failure(ask(k.json.secret)))?.status).toBe(429)
})

test('without [secrets] key, credentials are refused with the reason', async () => {
  const other = await startAdminGateway(adminToml().replace(/\[secrets\][^\[]*/, ''))
  try {
    await other.gw.database.db.run(`INSERT INTO admin_users (id, role, created_at) VALUES ('root', 'admin', 0)` as never)
    await other.gw.admin!.ctx.dir.reload()
    const me = await sessionFor(other.gw, 'root')
    const r = await request(other.gw, me, 'POST', `${V}/providers`, { id: 'x', api: 'openai', api_key: PROVIDER_KEY })
    expect(r.status).toBe(400)
    expect(r.json.error.code).toBe('secrets_key_missing')
    expect(r.json.error.message).toContain('[secrets] key')
    const s = await request(other.gw, me, 'GET', `${V}/settings`)
    expect(s.json.secrets_key.usable).toBe(false)
  } finally {
    await other.gw.close()
    rmSync(other.dir, { recursive: true, force: true })
  }
})

test("test connection calls the models endpoint with the stored credential and never echoes the provider's answer", async () => {
  // No recording of GET /v1/models exists, so a loopback endpoint plays the provider: 200 for
  // the right key, and a 401 that echoes part of the key, as OpenAI's does.
  const seen: string[] = []
  const models = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(req) {
      const auth = req.headers.get('authorization') ?? ''
      seen.push(`${req.method} ${new URL(req.url).pathname}`)
      if (auth === `Bearer ${PROVIDER_KEY}`) return Response.json({ object: 'list', data: [] })
      return Response.json({ error: { message: `Incorrect API key provided: ${auth.slice(7, 14)}***` } }, { status: 401 })
    },
  })
  try {
    expect((await api('POST', `${V}/providers`, { id: 'models-ok', api: 'openai', api_key: PROVIDER_KEY, base_url: `http://127.0.0.1:${models.port}/v1` })).status).toBe(201)
    const ok = await api('POST', `${V}/providers/models-ok/test`)
    expect(ok.json).toMatchObject({ ok: true, status: 200 })
    expect(seen).toEqual(['GET /v1/models'])
    expect((await api('PATCH', `${V}/providers/models-ok`, { api_key: 'sk-wrong-key-0000000000000000' })).json.key_last4).toBe('0000')
    const bad = await api('POST', `${V}/providers/models-ok/test`)
    expect(bad.json).toMatchObject({ ok: false, status: 401 })
    expect(bad.text).not.toContain('sk-wron')
  } finally {
    models.stop(true)
  }
})
