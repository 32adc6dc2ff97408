/**
 * Bad input, generated: seeded random requests across every route (odd paths, methods, query
 * strings, credentials, content types, malformed and hostile bodies). Whatever arrives, the
 * gateway answers below 500 (the upstream here always answers 200), in the route's provider
 * error shape when it refuses, with no stack trace and no secret in the answer, and the
 * gateway key never reaches the upstream. A failure prints the seed and the request.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { GEMINI_KEY, geminiToml } from '../google/support'
import { BEDROCK, apiKeyProviderToml } from '../providers/bedrock/support'
import { cases, type Cases } from '../support/random'

const SEED = Number(process.env.FUZZ_SEED ?? 20261127)
const CASES = Number(process.env.FUZZ_CASES ?? 600)
const MAX_BODY = 64 * 1024

let upstream: ReturnType<typeof Bun.serve>
let gateway: TestGateway
const upstreamSaw: string[] = []

beforeAll(async () => {
  upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      await req.arrayBuffer()
      for (const [k, v] of req.headers) upstreamSaw.push(`${k}: ${v}`)
      return Response.json({ id: 'x', model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })
    },
  })
  const u = `http://127.0.0.1:${upstream.port}`
  gateway = await startGateway(
    basicConfig(
      [
        `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${u}/v1"\napi_key = "${CANARY.openaiKey}"`,
        `[[providers]]\nid = "anthropic"\napi = "anthropic"\nbase_url = "${u}"\napi_key = "${CANARY.anthropicKey}"`,
        `[[providers]]\nid = "groq"\napi = "groq"\nbase_url = "${u}"\napi_key = "${CANARY.groqKey}"`,
        geminiToml(u),
        apiKeyProviderToml(u),
      ].join('\n\n'),
      `\n[server]\nmax_body_bytes = ${MAX_BODY}\n`,
    ),
  )
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop(true)
})

const ROUTES = ['openai', 'chat', 'responses', 'anthropic', 'groq', 'gemini', 'google', 'bedrock', 'nope', 'proxy/openai', 'proxy/anthropic', 'proxy/bedrock', '%E2%82', 'openai%2F..'] as const
const PATHS: Record<string, string[]> = {
  openai: ['chat/completions', 'responses', 'embeddings', 'models', 'responses/resp_1/input_items', 'v1/chat/completions'],
  anthropic: ['v1/messages', 'v1/messages?beta=true', 'v1/messages/count_tokens', 'v1/models', 'messages'],
  groq: ['openai/v1/chat/completions', 'openai/v1/models', 'chat/completions'],
  gemini: ['v1beta/models/gemini-2.5-flash:generateContent', 'v1beta/models/gemini-2.5-flash:streamGenerateContent', 'v1beta/models/gemini-2.5-flash:countTokens', 'v1beta/models', 'upload/v1beta/files', 'upload/files', 'models/x:generateContent'],
  bedrock: ['model/anthropic.claude-3-haiku-20240307-v1%3A0/converse', 'model/amazon.nova-micro-v1%3A0/converse-stream', 'model/x/invoke', 'model/%ZZ/invoke', 'model//converse', 'v1/messages', 'v1/messages/count_tokens', 'model/m/count-tokens', 'nothing'],
}
const NOISE = ['', '..', '%00', '%ZZ', 'ü', '%2e%2e/%2e%2e', 'a'.repeat(3000), '//', ';', '*']
const QUERIES = ['', '', '', '?alt=sse', `?key=${CANARY.gatewayKey}`, '?%ZZ=1', '?beta=true&beta=false', `?${'x='.repeat(500)}`]
const METHODS = ['POST', 'POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'] as const
const CONTENT_TYPES = ['application/json', 'application/json', undefined, 'text/plain', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded']

function value(r: Cases, depth = 0): unknown {
  const kinds = depth > 3 ? 6 : 9
  switch (Math.floor(r.next() * kinds)) {
    case 0:
      return r.pick([0, -1, 1e308, -1e308, 2 ** 63, 0.1, 9007199254740993])
    case 1:
      return r.pick(['', 'gpt-4o-mini', 'claude-3-5-haiku-latest', 'gemini-2.5-flash', 'x'.repeat(5000), '\u0000', '🙂', '%ZZ', '../../etc/passwd'])
    case 2:
      return r.pick([true, false])
    case 3:
      return null
    case 4:
    case 5:
      return r.pick(['gpt-4o', 'm', ''])
    case 6:
      return Array.from({ length: Math.floor(r.next() * 4) }, () => value(r, depth + 1))
    default: {
      const o: Record<string, unknown> = {}
      for (let i = Math.floor(r.next() * 5); i > 0; i--) o[r.pick(['model', 'stream', 'messages', 'max_tokens', 'stream_options', 'contents', 'input', 'n', 'anthropic_version', 'x'])] = value(r, depth + 1)
      return o
    }
  }
}

function body(r: Cases): string | Uint8Array | undefined {
  switch (Math.floor(r.next() * 12)) {
    case 0:
      return undefined
    case 1:
      return r.pick(['', '{', '[]', '"s"', 'null', '1', '{"model":', '{"model":"gpt-4o-mini"}}', '\u0000\u0001'])
    case 2:
      return new Uint8Array(Array.from({ length: 64 }, () => Math.floor(r.next() * 256)))
    case 3:
      return '['.repeat(20000) + ']'.repeat(20000)
    case 4:
      return JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(MAX_BODY) }] })
    case 5:
      return JSON.stringify({ model: value(r), stream: value(r), messages: value(r) })
    default: {
      const o: Record<string, unknown> = { model: r.pick(['gpt-4o-mini', 'claude-3-5-haiku-latest', 'gemini-2.5-flash', 'amazon.nova-micro-v1:0', value(r)]) }
      if (r.chance(0.5)) o.stream = value(r)
      if (r.chance(0.7)) o.messages = r.chance(0.5) ? [{ role: 'user', content: 'hi' }] : value(r)
      if (r.chance(0.3)) o.max_tokens = value(r)
      if (r.chance(0.2)) o.stream_options = value(r)
      if (r.chance(0.2)) o.contents = value(r)
      return JSON.stringify(o)
    }
  }
}

function headers(r: Cases): Record<string, string> {
  const h: Record<string, string> = {}
  switch (Math.floor(r.next() * 9)) {
    case 0:
      break
    case 1:
      h.authorization = `Bearer ${CANARY.gatewayKey}`
      h['x-api-key'] = 'tg-test-CANARY-some-other-key-0000000000002'
      break
    case 2:
      h.authorization = `Bearer ${'k'.repeat(300)}`
      break
    case 3:
      h.authorization = r.pick(['Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'bearer  x', `Bearer ${CANARY.gatewayKey} extra`])
      break
    case 4:
      h['x-api-key'] = CANARY.gatewayKey
      break
    case 5:
      h['x-goog-api-key'] = CANARY.gatewayKey
      break
    default:
      h.authorization = `Bearer ${CANARY.gatewayKey}`
  }
  const ct = r.pick(CONTENT_TYPES)
  if (ct) h['content-type'] = ct
  if (r.chance(0.2)) h['anthropic-beta'] = r.pick(['', 'x', 'a,b,,c'])
  if (r.chance(0.1)) h['content-encoding'] = r.pick(['gzip', 'br', 'nonsense'])
  if (r.chance(0.1)) h['x-goog-upload-command'] = r.pick(['start', 'upload, finalize', ''])
  return h
}

const SECRETS = [CANARY.gatewayKey, CANARY.openaiKey, CANARY.anthropicKey, CANARY.groqKey, GEMINI_KEY, BEDROCK.apiKey]

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** The error shape a route's clients expect (undefined: any provider shape, picked by the client's headers). */
function expectedShape(route: string, path: string): 'openai' | 'anthropic' | 'google' | 'bedrock' | undefined {
  const r = route
  if (r === 'openai' || r === 'chat' || r === 'responses' || r === 'groq') return 'openai'
  if (r === 'anthropic') return 'anthropic'
  if (r === 'gemini' || r === 'google') return 'google'
  if (r === 'bedrock') return path === 'v1' || path.startsWith('v1/') ? 'anthropic' : 'bedrock'
  return undefined
}

function shapeOf(json: any, h: Headers): string | undefined {
  if (json?.type === 'error' && typeof json.error?.type === 'string' && typeof json.error?.message === 'string') return 'anthropic'
  if (typeof json?.error?.message === 'string' && typeof json.error.status === 'string' && typeof json.error.code === 'number') return 'google'
  if (typeof json?.error?.message === 'string' && 'type' in json.error) return 'openai'
  if (typeof json?.message === 'string' && h.get('x-amzn-errortype')) return 'bedrock'
  return undefined
}

test(`${CASES} generated bad requests: below 500, in the route's error shape, no trace, no secret`, async () => {
  const r = cases(SEED)
  const failures: string[] = []
  const one = async (n: number) => {
    const route = r.pick(ROUTES)
    const base = route.replace(/^proxy\//, '')
    const path = r.chance(0.8) && PATHS[base] ? r.pick(PATHS[base]!) : `${r.pick(NOISE)}/${r.pick(NOISE)}`
    const query = r.pick(QUERIES)
    const method = r.pick(METHODS)
    const h = headers(r)
    const b = method === 'GET' || method === 'HEAD' ? undefined : body(r)
    const what = `case ${n} (seed ${SEED}): ${method} /${route}/${path.slice(0, 80)}${query.slice(0, 40)} headers=${JSON.stringify(h).slice(0, 200)} body=${typeof b === 'string' ? JSON.stringify(b.slice(0, 120)) : b ? `<${b.length} bytes>` : '-'}`
    // What the gateway gets once the client has normalised the URL (`..` segments resolved).
    const url = new URL(`${gateway.url}/${route}/${path}${query}`)
    const segments = url.pathname.replace(/^\/proxy\//, '/').split('/')
    const sentRoute = decodeURIComponentSafe(segments[1] ?? '')
    const sentPath = segments.slice(2).join('/')
    let res: Response
    try {
      res = await fetch(url, { method, headers: h, body: b })
    } catch (e) {
      failures.push(`${what}: fetch failed: ${(e as Error).message}`)
      return
    }
    const text = method === 'HEAD' ? '' : await res.text()
    if (res.status >= 500) failures.push(`${what}: status ${res.status}: ${text.slice(0, 300)}`)
    if (/\n\s+at |\.ts:\d+|node_modules|\/src\//.test(text)) failures.push(`${what}: a stack trace or source path in the answer: ${text.slice(0, 300)}`)
    for (const s of SECRETS) {
      if (text.includes(s)) failures.push(`${what}: a secret in the body`)
      for (const [k, v] of res.headers) if (v.includes(s)) failures.push(`${what}: a secret in header ${k}`)
    }
    if (res.status >= 400 && method !== 'HEAD') {
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        failures.push(`${what}: status ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`)
        return
      }
      const got = shapeOf(json, res.headers)
      const want = expectedShape(sentRoute, sentPath)
      if (!got) failures.push(`${what}: status ${res.status} in no provider error shape: ${text.slice(0, 200)}`)
      else if (want && got !== want) failures.push(`${what}: status ${res.status} in ${got}'s shape, not ${want}'s: ${text.slice(0, 200)}`)
    }
  }
  for (let i = 0; i < CASES; i += 8) await Promise.all(Array.from({ length: Math.min(8, CASES - i) }, (_, k) => one(i + k)))
  expect(failures.slice(0, 15)).toEqual([])
  // Nothing the gateway sent upstream carried the gateway key.
  expect(upstreamSaw.filter((l) => l.includes(CANARY.gatewayKey))).toEqual([])
  // Still serving.
  const ok = await fetch(`${gateway.url}/openai/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${CANARY.gatewayKey}`, 'content-type': 'application/json' }, body: '{"model":"gpt-4o-mini","messages":[]}' })
  expect(ok.status).toBe(200)
}, 60_000)
