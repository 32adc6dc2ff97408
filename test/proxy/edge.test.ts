/**
 * The proxy's edge: before authentication no answer depends on whether a route exists; the
 * 404 after it names only routes the key can use; credentials in the query string never go
 * upstream, and a gateway key there is refused.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { GoogleGenAI } from '@google/genai'
import { CANARY, startGateway, type TestGateway } from '../support/gateway'
import { generateKey } from '../../src/auth/key-format'
import { scrubCredentialQuery } from '../../src/proxy/edge'

const seen: URL[] = []
let upstream: ReturnType<typeof Bun.serve>
let gateway: TestGateway
const B_KEY = 'tg-test-project-b-key-000000000001'

beforeAll(async () => {
  upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(req) {
      seen.push(new URL(req.url))
      if (req.url.includes('generateContent'))
        return Response.json({ candidates: [{ content: { role: 'model', parts: [{ text: 'hi' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 1, totalTokenCount: 2 }, modelVersion: 'gemini-2.0-flash' })
      return Response.json({ object: 'list', data: [] })
    },
  })
  const u = `http://127.0.0.1:${upstream.port}`
  gateway = await startGateway(`
[[providers]]
id = "openai"
api = "openai"
base_url = "${u}/v1"
api_key = "${CANARY.openaiKey}"

[[providers]]
id = "gemini"
api = "gemini"
base_url = "${u}"
api_key = "AIzaTEST-CANARY-gemini-000000000000000001"

[[providers]]
id = "secret-a"
api = "anthropic"
base_url = "${u}"
api_key = "${CANARY.anthropicKey}"

[[projects]]
id = "a"
providers = ["secret-a", "openai"]

[[projects]]
id = "b"
providers = ["openai", "gemini"]

[[keys]]
id = "a-key"
project = "a"
key = "${CANARY.gatewayKey}"

[[keys]]
id = "b-key"
project = "b"
key = "${B_KEY}"
`)
})

afterAll(async () => {
  await gateway.stop()
  upstream.stop(true)
})

async function answer(path: string, init: RequestInit = {}) {
  const r = await fetch(gateway.url + path, init)
  return { status: r.status, body: await r.text(), type: r.headers.get('content-type') }
}

describe('before authentication', () => {
  test('a private provider id and a nonexistent route answer alike, in every method', async () => {
    for (const method of ['GET', 'HEAD', 'POST', 'DELETE']) {
      for (const headers of [{}, { 'x-api-key': 'nope', 'anthropic-version': '2023-06-01' }, { 'x-goog-api-key': 'nope' }] as Record<string, string>[]) {
        for (const rest of ['', '/v1/messages', '/x/y']) {
          const body = method === 'POST' ? '{}' : undefined
          const known = await answer(`/secret-a${rest}`, { method, headers, body })
          const unknown = await answer(`/nonexistent${rest}`, { method, headers, body })
          expect({ method, headers, rest, ...known }).toEqual({ method, headers, rest, ...unknown })
        }
      }
    }
  })

  test("Claude Code's HEAD probe of its base URL succeeds, with or without its key, and says nothing", async () => {
    for (const p of ['/anthropic', '/proxy/anthropic', '/secret-a', '/nonexistent', '/proxy/nonexistent']) {
      for (const headers of [{}, { 'x-api-key': CANARY.gatewayKey }, { authorization: `Bearer ${CANARY.gatewayKey}` }] as Record<string, string>[]) {
        const r = await fetch(gateway.url + p, { method: 'HEAD', headers })
        expect([p, r.status]).toEqual([p, 200])
      }
    }
  })
})

describe('after authentication', () => {
  test("a 404 lists only the routes the key can use, never another project's private provider", async () => {
    const r = await fetch(`${gateway.url}/nowhere/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${B_KEY}` }, body: '{}' })
    expect(r.status).toBe(404)
    const message = ((await r.json()) as any).error.message as string
    expect(message).not.toContain('secret-a')
    expect(message).not.toContain('anthropic')
    for (const name of ['openai', 'chat', 'gemini', 'google']) expect(message).toContain(name)
    // Project a's own key is told about its provider.
    const a = await fetch(`${gateway.url}/nowhere/x`, { method: 'POST', headers: { authorization: `Bearer ${CANARY.gatewayKey}` }, body: '{}' })
    expect(((await a.json()) as any).error.message).toContain('secret-a')
  })
})

describe('credentials in the query string', () => {
  test('never forwarded upstream, on the OpenAI route as on Gemini', async () => {
    seen.length = 0
    const qs = '?limit=2&key=AIzaSomethingElse&API_KEY=abc&access_token=ya29.x&Token=t&auth=a&apikey=k&x-api-key=z&after=c'
    for (const path of ['/openai/models', '/gemini/v1beta/models']) {
      const r = await fetch(gateway.url + path + qs, { headers: { authorization: `Bearer ${B_KEY}` } })
      expect(r.status).toBe(200)
    }
    expect(seen.map((u) => u.search)).toEqual(['?limit=2&after=c', '?limit=2&after=c'])
  })

  test('a gateway key there is refused, saying where keys go; nothing goes upstream', async () => {
    seen.length = 0
    const gen = generateKey().secret
    for (const [path, headers] of [
      [`/openai/models?key=${gen}`, {}],
      [`/openai/models?api_key=${gen}`, { authorization: `Bearer ${B_KEY}` }],
      [`/gemini/v1beta/models?key=${gen}`, {}],
      [`/nonexistent/x?access_token=${encodeURIComponent('Bearer ' + gen)}`, {}],
    ] as [string, Record<string, string>][]) {
      const r = await fetch(gateway.url + path, { headers })
      expect(r.status).toBe(401)
      const text = await r.text()
      expect(text).toContain('must not be sent in the URL')
      expect(text).toContain('Authorization: Bearer')
      expect(text).toContain('x-goog-api-key')
      expect(text).not.toContain(gen)
    }
    expect(seen).toHaveLength(0)
  })

  test('the real SDKs send keys in headers: OpenAI and @google/genai work, with no key in the URL', async () => {
    seen.length = 0
    const openai = new OpenAI({ apiKey: B_KEY, baseURL: `${gateway.url}/openai`, maxRetries: 0 })
    await openai.models.list()
    const google = new GoogleGenAI({ apiKey: B_KEY, httpOptions: { baseUrl: `${gateway.url}/gemini`, apiVersion: 'v1beta' } })
    const g = await google.models.generateContent({ model: 'gemini-2.0-flash', contents: 'hi' })
    expect(g.text).toBe('hi')
    expect(seen).toHaveLength(2)
    for (const u of seen) for (const p of u.searchParams.keys()) expect(p.toLowerCase()).not.toContain('key')
  })

  test('scrubCredentialQuery leaves other queries as they are', () => {
    for (const q of ['', '?', '?beta=true', '?alt=sse', '?pageToken=abc&pageSize=5', '?a=1&b=%2F']) expect(scrubCredentialQuery(q)).toBe(q)
    expect(scrubCredentialQuery('?key=x')).toBe('')
    expect(() => scrubCredentialQuery('?KEY=tg_abc')).toThrow()
  })
})
