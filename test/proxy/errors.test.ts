/**
 * Every error the gateway itself makes, in the client's provider shape with the right status,
 * as the official SDKs see them. None of these reach the upstream.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { apiKeys } from '../../src/db/schema'
import { generateKey } from '../../src/auth/key-format'
import { CANARY, startGateway, type TestGateway } from '../support/gateway'

let calls = 0
let upstream: ReturnType<typeof Bun.serve>
let gateway: TestGateway
const revoked = generateKey()
const expired = generateKey()
const limited = generateKey()

beforeAll(async () => {
  upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch() {
      calls++
      return Response.json({ id: 'x', object: 'chat.completion', choices: [], model: 'gpt-4o-mini' })
    },
  })
  const u = `http://127.0.0.1:${upstream.port}`
  gateway = await startGateway(`
[server]
listen = "127.0.0.1:0"
max_body_bytes = 2048

[[providers]]
id = "openai"
api = "openai"
base_url = "${u}/v1"
api_key = "${CANARY.openaiKey}"

[[providers]]
id = "anthropic"
api = "anthropic"
base_url = "${u}"
api_key = "${CANARY.anthropicKey}"

[[providers]]
id = "groq"
api = "groq"
api_key = ""

[[projects]]
id = "default"

[[projects]]
id = "narrow"
providers = ["anthropic"]

[[users]]
id = "alice"
projects = ["default"]

[[keys]]
id = "main"
project = "default"
user = "alice"
key = "${CANARY.gatewayKey}"

[[keys]]
id = "openai-only"
project = "default"
key = "tg-test-openai-only"
providers = ["openai"]
models = ["gpt-4o*"]

[[keys]]
id = "narrow-key"
project = "narrow"
key = "tg-test-narrow"

[[keys]]
id = "old"
project = "default"
key = "tg-test-expired-config"
expires = "2020-01-01T00:00:00Z"
`)
  const now = Date.now()
  await gateway.gw.database.db.insert(apiKeys).values([
    { id: revoked.id, project: 'default', keySha256: revoked.sha256, displayPrefix: revoked.displayPrefix, createdAt: now, revokedAt: now },
    { id: expired.id, project: 'default', keySha256: expired.sha256, displayPrefix: expired.displayPrefix, createdAt: now, expiresAt: now - 1000 },
    { id: limited.id, project: 'default', keySha256: limited.sha256, displayPrefix: limited.displayPrefix, createdAt: now, models: ['claude-*'] },
  ])
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop(true)
})

const openai = (key: string) => new OpenAI({ apiKey: key, baseURL: `${gateway.url}/openai`, maxRetries: 0 })
const anthropic = (key: string) => new Anthropic({ apiKey: key, baseURL: `${gateway.url}/anthropic`, maxRetries: 0 })
const chat = (c: OpenAI, model = 'gpt-4o-mini') => c.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
const msg = (c: Anthropic) => c.messages.create({ model: 'claude-3-5-haiku-latest', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)

describe('authentication', () => {
  test('missing key: 401 in each shape', async () => {
    const r = await fetch(`${gateway.url}/openai/chat/completions`, { method: 'POST', body: '{}' })
    expect(r.status).toBe(401)
    expect(((await r.json()) as any).error.code).toBe('invalid_api_key')
    const a = await fetch(`${gateway.url}/anthropic/v1/messages`, { method: 'POST', body: '{}' })
    expect(await a.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } })
  })

  test('unknown and revoked keys get the identical 401', async () => {
    const unknown = await chat(openai('tg_aaaaaaaaaaaa_' + 'x'.repeat(32)))
    const rev = await chat(openai(revoked.secret))
    expect(unknown).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(rev).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(rev.error).toEqual(unknown.error)
    const a1 = await msg(anthropic('nope'))
    const a2 = await msg(anthropic(revoked.secret))
    expect(a1).toBeInstanceOf(Anthropic.AuthenticationError)
    expect(a2.error).toEqual(a1.error)
  })

  test('expired keys (config and generated) get a 401 saying so', async () => {
    for (const k of ['tg-test-expired-config', expired.secret]) {
      const e = await chat(openai(k))
      expect(e).toBeInstanceOf(OpenAI.AuthenticationError)
      expect(e.error.code).toBe('expired_api_key')
      expect(e.error.message).toContain('expired')
    }
  })

  test('a key over 256 characters is refused before any lookup', async () => {
    const lookup = await gateway.gw.keys.lookup('k'.repeat(257))
    expect(lookup).toEqual({ ok: false, reason: 'too_long' })
    const e = await chat(openai('k'.repeat(300)))
    expect(e).toBeInstanceOf(OpenAI.AuthenticationError)
  })

  test('two different keys in one request: 400; the same key twice is fine', async () => {
    const r = await fetch(`${gateway.url}/openai/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CANARY.gatewayKey}`, 'x-api-key': 'other', 'content-type': 'application/json' },
      body: '{"model":"gpt-4o-mini","messages":[]}',
    })
    expect(r.status).toBe(400)
    expect(((await r.json()) as any).error.code).toBe('conflicting_keys')
    const ok = await fetch(`${gateway.url}/openai/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CANARY.gatewayKey}`, 'x-goog-api-key': CANARY.gatewayKey, 'content-type': 'application/json' },
      body: '{"model":"gpt-4o-mini","messages":[]}',
    })
    expect(ok.status).toBe(200)
  })

  test('a generated key works in any of the three headers', async () => {
    const k = generateKey()
    await gateway.gw.database.db.insert(apiKeys).values({ id: k.id, project: 'default', keySha256: k.sha256, displayPrefix: k.displayPrefix, createdAt: Date.now() })
    // As the background refresh would within 5 s (unknown ids right before are not re-checked at once: src/auth/keystore.ts).
    await gateway.gw.keys.refresh()
    for (const h of ['authorization', 'x-api-key', 'x-goog-api-key']) {
      const r = await fetch(`${gateway.url}/openai/chat/completions`, {
        method: 'POST',
        headers: { [h]: h === 'authorization' ? `Bearer ${k.secret}` : k.secret, 'content-type': 'application/json' },
        body: '{"model":"gpt-4o-mini","messages":[]}',
      })
      expect(r.status).toBe(200)
    }
  })
})

describe('allow-lists', () => {
  test("provider outside the key's list: 403 naming what is allowed", async () => {
    const e = await msg(anthropic('tg-test-openai-only'))
    expect(e).toBeInstanceOf(Anthropic.PermissionDeniedError)
    expect(e.error.error.message).toContain('Allowed: openai')
  })

  test("provider outside the project's list: the 404 of an unknown route, listing what the key can use", async () => {
    const e = await chat(openai('tg-test-narrow'))
    expect(e).toBeInstanceOf(OpenAI.NotFoundError)
    expect(e.error.code).toBe('unknown_route')
    expect(e.error.message).toContain('Routes this key can use: anthropic')
  })

  test('model outside the glob list: 403 naming the globs', async () => {
    const before = calls
    const e = await chat(openai('tg-test-openai-only'), 'o3-mini')
    expect(e).toBeInstanceOf(OpenAI.PermissionDeniedError)
    expect(e.error.message).toContain('gpt-4o*')
    const e2 = await chat(openai(limited.secret), 'gpt-4o-mini')
    expect(e2.error.code).toBe('model_not_allowed')
    expect(calls).toBe(before)
    expect(await chat(openai('tg-test-openai-only'), 'gpt-4o-mini')).toMatchObject({ id: 'x' })
  })
})

describe('routing and bodies', () => {
  test('unknown route: 404 in the guessed shape', async () => {
    const r = await fetch(`${gateway.url}/nowhere/v1/chat`, { method: 'POST', headers: { authorization: `Bearer ${CANARY.gatewayKey}` }, body: '{}' })
    expect(r.status).toBe(404)
    expect(((await r.json()) as any).error.code).toBe('unknown_route')
    const a = await fetch(`${gateway.url}/nowhere/v1/messages`, { method: 'POST', headers: { 'x-api-key': CANARY.gatewayKey, 'anthropic-version': '2023-06-01' }, body: '{}' })
    expect(await a.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } })
  })

  test('disabled provider: 503 in its shape, not retried by the SDK', async () => {
    const r = await fetch(`${gateway.url}/groq/openai/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${CANARY.gatewayKey}` }, body: '{}' })
    expect(r.status).toBe(503)
    expect(r.headers.get('x-should-retry')).toBe('false')
    expect(((await r.json()) as any).error.code).toBe('provider_disabled')
  })

  test('body over the limit: 413 and the upstream is never called', async () => {
    const before = calls
    const e = await openai(CANARY.gatewayKey).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(5000) }] }).catch((x) => x)
    expect(e.status).toBe(413)
    expect(e.error.type).toBe('invalid_request_error')
    const a = await anthropic(CANARY.gatewayKey).messages.create({ model: 'claude-3-5-haiku-latest', max_tokens: 5, messages: [{ role: 'user', content: 'x'.repeat(5000) }] }).catch((x) => x)
    expect(a.status).toBe(413)
    expect(a.error.error.type).toBe('request_too_large')
    // A chunked upload without content-length is cut off too.
    const chunked = new ReadableStream({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode('x'.repeat(500)))
        c.close()
      },
    })
    const r = await fetch(`${gateway.url}/openai/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${CANARY.gatewayKey}`, 'content-type': 'application/json' }, body: chunked })
    expect(r.status).toBe(413)
    expect(calls).toBe(before)
  })

  test('a JSON body that is not JSON: 400 invalid_json', async () => {
    for (const body of ['{not json', '[1,2]']) {
      const r = await fetch(`${gateway.url}/anthropic/v1/messages`, { method: 'POST', headers: { 'x-api-key': CANARY.gatewayKey, 'content-type': 'application/json' }, body })
      expect(r.status).toBe(400)
      expect(await r.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
    }
  })

  test('an unreachable upstream: 502 in the native shape, no stack trace', async () => {
    const closed = Bun.serve({ port: 0, fetch: () => new Response() })
    const port = closed.port
    closed.stop(true)
    const gw = await startGateway(`[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "http://127.0.0.1:${port}/v1"\napi_key = "${CANARY.openaiKey}"\n[[projects]]\nid = "p"\n[[keys]]\nid = "k"\nproject = "p"\nkey = "${CANARY.gatewayKey}"`)
    try {
      const e = await chat(openai(CANARY.gatewayKey).withOptions({ baseURL: `${gw.url}/openai` }))
      expect(e).toBeInstanceOf(OpenAI.APIError)
      expect(e.status).toBe(502)
      expect(JSON.stringify(e.error)).not.toContain(' at ')
    } finally {
      await gw.stop()
    }
  })

  test('health, readiness and the root need no key', async () => {
    expect(await (await fetch(`${gateway.url}/health`)).json()).toEqual({ status: 'ok' })
    expect(await (await fetch(`${gateway.url}/ready`)).json()).toEqual({ status: 'ready', database: 'ok' })
    expect(await (await fetch(`${gateway.url}/`)).json()).toMatchObject({ name: 'tollgate' })
  })
})
