/**
 * Ids already in the database (made before reserved names were refused, or written by hand)
 * that collide with a reserved name: the start names each in a warning, the admin API marks
 * them, and a provider among them never takes a built-in route (the built-in wins).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { adminProjects, adminProviders, adminUsers } from '../../src/db/schema-admin'
import type { Gateway } from '../../src/gateway'
import { CANARY } from '../support/gateway'
import { request, SECRET_KEY, sessionFor, startAdminGateway } from './fixture'

const COMPLETION = { id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }

/** A local OpenAI-shaped upstream that counts the requests it gets. */
function upstream() {
  const counter = { hits: 0 }
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (): Response => (counter.hits++, Response.json(COMPLETION)) })
  return Object.assign(counter, { server })
}

const builtIn = upstream()
const squatter = upstream()
let gw: Gateway
let dir: string
let warnings: string[] = []

const toml = () => `
[secrets]
key = "${SECRET_KEY}"

[[providers]]
id = "cfg-openai"
api = "openai"
api_key = "${CANARY.openaiKey}"
base_url = "http://127.0.0.1:${builtIn.server.port}/v1"

[[projects]]
id = "default"

[[keys]]
id = "cfg-key"
project = "default"
key = "${CANARY.gatewayKey}"

[admin]
allow_private_upstreams = true
`

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tollgate-reserved-db-'))
  const first = await startAdminGateway(toml(), dir)
  const now = Date.now()
  // Rows the admin API would refuse today, as an older version (or a hand-written INSERT) left them.
  await first.gw.database.db.insert(adminProviders).values([
    { id: 'chat', api: 'openai', baseUrl: `http://127.0.0.1:${squatter.server.port}/v1`, enabled: true, createdAt: now },
    { id: 'metrics', api: 'openai', baseUrl: `http://127.0.0.1:${squatter.server.port}/v1`, enabled: true, createdAt: now },
    { id: 'fine', api: 'openai', baseUrl: `http://127.0.0.1:${squatter.server.port}/v1`, enabled: true, createdAt: now },
  ])
  await first.gw.database.db.insert(adminProjects).values([{ id: 'v1', createdAt: now }])
  await first.gw.database.db.insert(adminUsers).values([{ id: 'root', role: 'admin', createdAt: now }])
  await first.gw.close()
  const error = console.error
  console.error = (...a: unknown[]) => void warnings.push(a.join(' '))
  try {
    ;({ gw } = await startAdminGateway(toml(), dir))
  } finally {
    console.error = error
  }
})

afterAll(async () => {
  await gw.close()
  builtIn.server.stop(true)
  squatter.server.stop(true)
  rmSync(dir, { recursive: true, force: true })
})

test('the start names each colliding id in a warning', () => {
  const reserved = warnings.filter((w) => w.includes('has a reserved id'))
  expect(reserved).toEqual([
    expect.stringMatching(/^admin: warning: provider "chat" in the database \(table admin_providers\) has a reserved id: .*built-in route name.*not routed/),
    expect.stringMatching(/^admin: warning: provider "metrics" .*gateway's own \/metrics path/),
    expect.stringMatching(/^admin: warning: project "v1" in the database \(table admin_projects\) has a reserved id/),
  ])
})

test('the built-in route wins: /chat reaches the api alias, never the database provider "chat"', async () => {
  const auth = { authorization: `Bearer ${CANARY.gatewayKey}` }
  const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }
  const r = await request(gw, undefined, 'POST', '/chat/chat/completions', body, { ...auth, 'content-type': 'application/json' })
  expect(r.status).toBe(200)
  expect(builtIn.hits).toBe(1)
  // A POST under /metrics is no provider route either.
  const m = await request(gw, undefined, 'POST', '/metrics/chat/completions', body, { ...auth, 'content-type': 'application/json' })
  expect(m.status).toBe(404)
  expect(squatter.hits).toBe(0)
  // An id that is not reserved still routes as before.
  expect((await request(gw, undefined, 'POST', '/fine/chat/completions', body, auth)).status).toBe(200)
  expect(squatter.hits).toBe(1)
})

test('the admin API marks them; other objects carry null', async () => {
  const root = await sessionFor(gw, 'root')
  const providers = (await request(gw, root, 'GET', '/admin/api/v1/providers')).json.providers as { id: string; reserved_name_conflict: string | null }[]
  const mark = Object.fromEntries(providers.map((p) => [p.id, p.reserved_name_conflict]))
  expect(mark.chat).toMatch(/"chat" is reserved/)
  expect(mark.metrics).toMatch(/"metrics" is reserved/)
  expect(mark.fine).toBeNull()
  expect(mark['cfg-openai']).toBeNull()
  const projects = (await request(gw, root, 'GET', '/admin/api/v1/projects')).json.projects as { id: string; reserved_name_conflict: string | null }[]
  expect(projects.find((p) => p.id === 'v1')?.reserved_name_conflict).toMatch(/"v1" is reserved/)
  expect(projects.find((p) => p.id === 'default')?.reserved_name_conflict).toBeNull()
  const t = await request(gw, root, 'POST', '/admin/api/v1/providers/chat/test')
  expect(t.json).toEqual({ ok: false, status: 0, message: expect.stringContaining('not routed') })
  expect(squatter.hits).toBe(1)
})
