/**
 * `passthrough_paths`: the operator's exception to default deny. A path no endpoint row matches
 * reaches the upstream only when the provider lists it, is recorded unpriced, and is refused for
 * keys with a model allow-list or any limit.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { CANARY, startGateway, type TestGateway } from '../support/gateway'

const seen: string[] = []
let upstream: ReturnType<typeof Bun.serve>
let gateway: TestGateway

const FREE = 'tg-test-passthrough-free-key-000000000000001'
const LISTED = 'tg-test-passthrough-list-key-000000000000001'

beforeAll(async () => {
  upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(req) {
      seen.push(new URL(req.url).pathname)
      return Response.json({ ok: true })
    },
  })
  const u = `http://127.0.0.1:${upstream.port}`
  gateway = await startGateway(`
[[providers]]
id = "openai"
api = "openai"
base_url = "${u}/v1"
api_key = "sk-x"
passthrough_paths = ["organization/*/usage", "custom/**"]

[[providers]]
id = "plain"
api = "openai"
base_url = "${u}/v1"
api_key = "sk-y"

[[projects]]
id = "default"

[[keys]]
id = "limited"
project = "default"
key = "${CANARY.gatewayKey}"
limits = { daily = 5 }

[[keys]]
id = "free"
project = "default"
key = "${FREE}"

[[keys]]
id = "listed"
project = "default"
key = "${LISTED}"
models = ["gpt-4o-mini*"]
`)
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop(true)
})

const get = (path: string, key: string) => fetch(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${key}` } })

test('a listed path goes upstream for a key with no limit and no allow-list, and is logged unpriced', async () => {
  const before = seen.length
  const r = await get('/openai/organization/org-1/usage', FREE)
  expect(r.status).toBe(200)
  expect(await r.json()).toEqual({ ok: true })
  expect(seen.slice(before)).toEqual(['/v1/organization/org-1/usage'])
  // `**` takes the rest, normalised like every path (double and trailing slashes).
  const r2 = await get('/openai/custom//a/b/', FREE)
  expect(r2.status).toBe(200)
  await r2.arrayBuffer()
  await gateway.gw.requestLog.flush()
  const rows = (await gateway.gw.database.client.execute({ sql: "SELECT status, cost_nanos FROM request_log WHERE key_id = 'free' AND path = '/openai/organization/org-1/usage'", args: [] })).rows
  expect(rows.length).toBe(1)
  expect(Number(rows[0]!.status)).toBe(200)
  expect(rows[0]!.cost_nanos).toBeNull()
})

test('a listed path is refused for a key with a limit or an allow-list, before upstream', async () => {
  const before = seen.length
  for (const key of [CANARY.gatewayKey, LISTED]) {
    const r = await get('/openai/organization/org-1/usage', key)
    expect(r.status).toBe(403)
    const body = (await r.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('passthrough_not_allowed')
  }
  expect(seen.length).toBe(before)
})

test('a path no row matches and the provider does not list is a native 404 naming the path', async () => {
  const before = seen.length
  const c = new OpenAI({ apiKey: FREE, baseURL: `${gateway.url}/plain`, maxRetries: 0 })
  const err = (await c.get('/organization/org-1/usage').catch((e: unknown) => e)) as InstanceType<typeof OpenAI.NotFoundError>
  expect(err).toBeInstanceOf(OpenAI.NotFoundError)
  expect(err.message).toContain('/plain/organization/org-1/usage')
  // One segment only: `*` does not match across a slash.
  const r = await get('/openai/organization/a/b/usage', FREE)
  expect(r.status).toBe(404)
  await r.arrayBuffer()
  expect(seen.length).toBe(before)
})

test('the config refuses a passthrough list that is not a list of strings', async () => {
  const { parseConfig } = await import('../../src/config/load')
  await expect(parseConfig('[[providers]]\nid = "o"\napi = "openai"\napi_key = "k"\npassthrough_paths = "custom/**"\n')).rejects.toThrow(/passthrough_paths/)
})
