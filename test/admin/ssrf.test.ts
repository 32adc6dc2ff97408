/**
 * Admin-made providers cannot reach internal hosts (issue 15): every internal address, spelling
 * and resolution is refused when saved, when tested and at connect time, and an internal server
 * on 127.0.0.1 sees no connection at all. Also: project admins cannot set base_url or headers,
 * and ids may not take a built-in route name (a provider `chat` once took /chat from `default`).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createServer, type Server } from 'node:net'
import { rmSync } from 'node:fs'
import type { Gateway } from '../../src/gateway'
import { setResolver } from '../../src/net/upstream-guard'
import { adminToml, request, sessionFor, startAdminGateway, type Caller } from './fixture'

const V = '/admin/api/v1'
let gw: Gateway
let dir: string
let org: Caller
let pa: Caller
let internal: Server
let port = 0
let connections = 0
/** What the test's resolver answers, per host name. */
const dns: Record<string, string[]> = {}

beforeAll(async () => {
  // A raw TCP server: any connection counts, even one that would fail TLS.
  internal = createServer((s) => {
    connections++
    s.destroy()
  })
  await new Promise<void>((r) => internal.listen(0, '127.0.0.1', () => r()))
  port = (internal.address() as { port: number }).port
  setResolver(async (host) => {
    const a = dns[host]
    if (!a) throw new Error('ENOTFOUND')
    return a
  })
  const toml = adminToml().replace('allow_private_upstreams = true', 'allow_private_upstreams = false').replace('allowed_base_urls = ["http://127.0.0.1:9/v1"]', 'allowed_base_urls = ["https://llm.corp.example/v1"]')
  ;({ gw, dir } = await startAdminGateway(toml))
  await gw.database.db.run(`INSERT INTO admin_users (id, role, created_at) VALUES ('root', 'admin', 0), ('lead', 'member', 0)` as never)
  await gw.database.db.run(`INSERT INTO admin_projects (id, created_at) VALUES ('team', 0)` as never)
  await gw.database.db.run(`INSERT INTO admin_memberships (project, user_id, role, created_at) VALUES ('team', 'lead', 'admin', 0)` as never)
  await gw.admin!.ctx.dir.reload()
  org = await sessionFor(gw, 'root')
  pa = await sessionFor(gw, 'lead')
})

afterAll(async () => {
  setResolver(undefined)
  internal.close()
  await gw.close()
  rmSync(dir, { recursive: true, force: true })
})

let n = 0
const create = (who: Caller, extra: Record<string, unknown>) => request(gw, who, 'POST', `${V}/providers`, { id: `p${++n}`, api: 'openai', api_key: 'sk-test-ssrf-000000000000000000', ...extra })

test('internal addresses in every spelling are refused when saved; the internal server sees nothing', async () => {
  dns['inside.example.com'] = ['127.0.0.1']
  for (const host of [
    `127.0.0.1:${port}`, `10.0.0.1:${port}`, `172.16.5.4:${port}`, `192.168.0.10:${port}`, '169.254.169.254', `100.64.0.1:${port}`,
    `[::1]:${port}`, `[::ffff:127.0.0.1]:${port}`, `2130706433:${port}`, `0x7f000001:${port}`, `0177.0.0.1:${port}`, `127.1:${port}`,
    'metadata.google.internal', `inside.example.com:${port}`,
  ]) {
    const r = await create(org, { base_url: `https://${host}/v1` })
    expect(`${host} → ${r.status}`).toBe(`${host} → 400`)
    expect(r.json.error.message).toContain('base_url')
  }
  const plain = await create(org, { base_url: `http://api.example.com/v1` })
  expect(plain.status).toBe(400)
  expect((await request(gw, org, 'GET', `${V}/providers`)).json.providers.filter((p: { source: string }) => p.source === 'db')).toEqual([])
  expect(connections).toBe(0)
})

test('DNS rebinding: public when saved, loopback at connect time → the proxy and the test endpoint refuse', async () => {
  dns['rebind.example.com'] = ['93.184.216.34']
  const made = await create(org, { id: 'rebind', base_url: `https://rebind.example.com:${port}/v1`, project: 'team' })
  expect(made.status).toBe(201)
  dns['rebind.example.com'] = ['127.0.0.1']
  const tested = await request(gw, org, 'POST', `${V}/providers/rebind/test`)
  expect(tested.json.ok).toBe(false)
  expect(tested.json.message).toContain('127.0.0.1 is loopback')

  const key = await request(gw, org, 'POST', `${V}/keys`, { project: 'team', user: null })
  expect(key.status).toBe(201)
  const res = await gw.app.handle(
    new Request('http://127.0.0.1/rebind/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key.json.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    }),
  )
  expect(res.status).toBe(502)
  await res.text()
  // The request log says why: refused by the address policy, not a failed connection.
  let attempts = ''
  for (let i = 0; i < 100 && !attempts; i++) {
    const rows = (await gw.database.client.execute(`SELECT attempts FROM request_log WHERE path LIKE '/rebind/%'`)).rows
    attempts = String(rows[0]?.attempts ?? '')
    if (!attempts) await Bun.sleep(20)
  }
  expect(attempts).toContain('upstream_address_refused')
  expect(connections).toBe(0)
})

test('headers: project admins set none; org admins none of the refused names', async () => {
  expect((await create(pa, { project: 'team', headers: { 'OpenAI-Organization': 'org-1' } })).status).toBe(403)
  for (const h of ['Host', 'Authorization', 'Cookie', 'Connection', 'Transfer-Encoding', 'Content-Length', 'Proxy-Authorization', 'X-Forwarded-For', 'x-api-key', 'Metadata-Flavor']) {
    const r = await create(org, { headers: { [h]: 'metadata.google.internal' } })
    expect(`${h} → ${r.status}`).toBe(`${h} → 400`)
    expect(r.json.error.message).toContain(h)
  }
  expect((await create(org, { headers: { 'OpenAI-Organization': 'org-1' } })).status).toBe(201)
})

test('base_url: a project admin only at the default endpoint or a listed URL', async () => {
  dns['api.example.com'] = ['93.184.216.34']
  expect((await create(pa, { project: 'team', base_url: 'https://api.example.com/v1' })).status).toBe(403)
  expect((await create(pa, { project: 'team', base_url: 'https://llm.corp.example/v1' })).status).toBe(201)
  const own = await create(pa, { project: 'team' })
  expect(own.status).toBe(201)
  const patched = await request(gw, pa, 'PATCH', `${V}/providers/${own.json.id}`, { base_url: `https://127.0.0.1:${port}/v1` })
  expect(patched.status).toBe(403)
  expect((await request(gw, org, 'PATCH', `${V}/providers/${own.json.id}`, { base_url: `https://127.0.0.1:${port}/v1` })).status).toBe(400)
  expect(connections).toBe(0)
})

test('route takeover: ids may not take a built-in route or gateway path name', async () => {
  for (const id of ['chat', 'openai', 'anthropic', 'google', 'bedrock', 'admin', 'v1', 'metrics', 'health', 'ready', 'proxy', 'Chat']) {
    const r = await create(pa, { id, project: 'team' })
    expect(`${id} → ${r.status}`).toBe(`${id} → 400`)
    expect(r.json.error.message).toContain(`"${id}"`)
    expect((await request(gw, org, 'POST', `${V}/projects`, { id })).status).toBe(400)
  }
})
