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
const A_OPENAI_ONLY = 'tg-test-project-a-openai-only-0000001'

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

[[keys]]
id = "a-openai-only"
project = "a"
key = "${A_OPENAI_ONLY}"
providers = ["openai"]
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

  /** An answer with the asked-for name taken out (each 404 names the route it was asked for). */
  async function named(path: string, name: string, key: string, body = '{}') {
    const r = await fetch(gateway.url + path, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body })
    return { status: r.status, type: r.headers.get('content-type'), body: (await r.text()).replaceAll(name, '<name>') }
  }

  test("with project b's key, project a's private provider and a nonexistent id answer alike (404, same body)", async () => {
    for (const rest of ['/v1/messages', '/v1/chat/completions', '']) {
      const priv = await named(`/secret-a${rest}`, 'secret-a', B_KEY)
      const none = await named(`/no-such-route${rest}`, 'no-such-route', B_KEY)
      expect(priv.status).toBe(404)
      expect(priv).toEqual(none)
      expect(priv.body).not.toContain('provider_not_allowed')
    }
    // Anthropic's SDK gets the same answer for both, in its own shape.
    const headers = { 'x-api-key': B_KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' }
    const [p, n] = await Promise.all(
      ['secret-a', 'no-such-route'].map(async (name) => {
        const r = await fetch(`${gateway.url}/${name}/v1/messages`, { method: 'POST', headers, body: '{"model":"claude-3-5-haiku-latest","max_tokens":1,"messages":[]}' })
        return { status: r.status, body: (await r.text()).replaceAll(name, '<name>') }
      }),
    )
    expect(p).toEqual(n!)
    expect(seen.filter((u) => u.pathname.includes('messages'))).toHaveLength(0)
  })

  test("the front door too: project a's private provider named in the model answers as an unknown route", async () => {
    const body = (route: string) => JSON.stringify({ model: `${route}:claude-3-5-haiku-latest`, messages: [{ role: 'user', content: 'hi' }] })
    const priv = await named('/v1/chat/completions', 'secret-a', B_KEY, body('secret-a'))
    const none = await named('/v1/chat/completions', 'no-such-route', B_KEY, body('no-such-route'))
    expect(priv.status).toBe(404)
    expect(priv).toEqual(none)
  })

  test("a route of the key's own project that its allow-list excludes stays a 403 (the project's members see that provider)", async () => {
    const r = await named('/secret-a/v1/messages', 'secret-a', A_OPENAI_ONLY)
    expect(r.status).toBe(403)
    expect(r.body).toContain('not allowed for this key')
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
