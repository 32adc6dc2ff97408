/**
 * The bypasses of issue 14's first list, on every provider where they apply, against a key
 * limited to gpt-4o-mini*, claude-3-5-haiku*, gemini-2.0-flash* (and Bedrock's
 * anthropic.claude-3-5-haiku*) with a $0.01 daily limit:
 * - JSON bodies sent as application/JSON, Application/Json, text/plain or with no content type;
 * - multipart uploads (the model is read from the form field);
 * - batch creation;
 * - paths with a trailing or double slash, or percent-encoded characters.
 * Each, asking for a model the key may not use, is refused in the client's format; the upstream
 * is never called and nothing is spent. Then the limit is spent, and every variant, asking for a
 * model the key may use, is refused too.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { scopeKey } from '../../src/spend/budget'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { startOAuthServer, type OAuthServer } from '../support/oauth-server'
import { SA_ENV, vertexToml } from '../google/support'

let calls = 0
let upstream: ReturnType<typeof Bun.serve>
let oauth: OAuthServer
let gateway: TestGateway

beforeAll(async () => {
  upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      calls++
      const body = (await req.json().catch(() => ({}))) as { model?: string }
      // Large usage: one answered request spends the whole $0.01 (100k gpt-4o-mini input tokens: $0.015).
      return Response.json({
        id: 'c',
        object: 'chat.completion',
        created: 1,
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 100_000, completion_tokens: 5, total_tokens: 100_005 },
      })
    },
  })
  oauth = await startOAuthServer({ project: 'pydantic-ai' })
  const u = `http://127.0.0.1:${upstream.port}`
  gateway = await startGateway(
    basicConfig(
      `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${u}/v1"\napi_key = "sk-x"\n` +
        `[[providers]]\nid = "groq"\napi = "groq"\nbase_url = "${u}"\napi_key = "gsk-x"\n` +
        `[[providers]]\nid = "anthropic"\napi = "anthropic"\nbase_url = "${u}"\napi_key = "sk-ant-x"\n` +
        `[[providers]]\nid = "gemini"\napi = "gemini"\nbase_url = "${u}"\napi_key = "g-x"\n` +
        `[[providers]]\nid = "bedrock"\napi = "bedrock"\nbase_url = "${u}"\nregion = "us-east-1"\napi_key = "ABSK-x"\n` +
        `${vertexToml({ baseUrl: u, tokenUrl: oauth.tokenUrl })}\n`,
      'models = ["gpt-4o-mini*", "claude-3-5-haiku*", "gemini-2.0-flash*", "anthropic.claude-3-5-haiku*"]\nlimits = { daily = 0.01 }',
    ),
    { env: { [SA_ENV]: oauth.accountJson } },
  )
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop(true)
  oauth.stop()
})

const auth = { authorization: `Bearer ${CANARY.gatewayKey}` }
const CONTENT_TYPES = ['application/JSON', 'Application/Json', 'text/plain', undefined] as const

type Shape = 'openai' | 'anthropic' | 'google' | 'bedrock'

interface Variant {
  name: string
  shape: Shape
  /** The model the key may not use, and one it may. */
  denied: string
  allowed: string
  request(model: string): { path: string; init: RequestInit }
  /** Status for the denied model (default 403: not on the allow-list). */
  deniedStatus?: number
}

const json = (path: string, body: unknown, ct: string | undefined = 'application/json'): { path: string; init: RequestInit } => ({
  path,
  init: { headers: ct ? { 'content-type': ct } : {}, body: JSON.stringify(body) },
})
const chat = (model: string) => ({ model, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
const gemini = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }], generationConfig: { maxOutputTokens: 5 } }
const converse = { messages: [{ role: 'user', content: [{ text: 'hi' }] }], inferenceConfig: { maxTokens: 5 } }

function form(path: string, model: string, contentType?: (boundary: string) => string) {
  const f = new FormData()
  f.set('model', model)
  f.set('file', new Blob([new Uint8Array(64)]), 'a.wav')
  if (!contentType) return { path, init: { body: f } }
  // Re-encode with a chosen media-type spelling: the same bytes under `Multipart/Form-Data`.
  const r = new Response(f)
  const boundary = /boundary=(.+)$/.exec(r.headers.get('content-type')!)![1]!
  return { path, init: { headers: { 'content-type': contentType(boundary) }, body: r.body, duplex: 'half' } as RequestInit }
}

const OPENAI = { denied: 'gpt-5', allowed: 'gpt-4o-mini' }
const CLAUDE = { denied: 'claude-opus-4-1', allowed: 'claude-3-5-haiku-latest' }
const GEMINI = { denied: 'gemini-2.5-pro', allowed: 'gemini-2.0-flash' }
const BEDROCK = { denied: 'anthropic.claude-opus-4-1-20250805-v1:0', allowed: 'anthropic.claude-3-5-haiku-20241022-v1:0' }
const VERTEX_CLAUDE = { denied: 'claude-opus-4-1@20250805', allowed: 'claude-3-5-haiku@20241022' }

const VARIANTS: Variant[] = [
  // Content types: the body is read as JSON whatever its declared type.
  ...CONTENT_TYPES.flatMap((ct): Variant[] => [
    { name: `OpenAI chat, ${ct ?? 'no content type'}`, shape: 'openai', ...OPENAI, request: (m) => json('/openai/chat/completions', chat(m), ct) },
    { name: `OpenAI chat stream, ${ct ?? 'no content type'}`, shape: 'openai', ...OPENAI, request: (m) => json('/openai/chat/completions', { ...chat(m), stream: true }, ct) },
    { name: `OpenAI responses, ${ct ?? 'no content type'}`, shape: 'openai', ...OPENAI, request: (m) => json('/openai/responses', { model: m, input: 'hi', max_output_tokens: 5 }, ct) },
    { name: `OpenAI embeddings, ${ct ?? 'no content type'}`, shape: 'openai', denied: 'text-embedding-3-large', allowed: 'gpt-4o-mini', request: (m) => json('/openai/embeddings', { model: m, input: 'hi' }, ct) },
    { name: `Groq chat, ${ct ?? 'no content type'}`, shape: 'openai', denied: 'llama-3.3-70b-versatile', allowed: 'gpt-4o-mini', request: (m) => json('/groq/openai/v1/chat/completions', chat(m), ct) },
    { name: `Anthropic messages, ${ct ?? 'no content type'}`, shape: 'anthropic', ...CLAUDE, request: (m) => json('/anthropic/v1/messages', chat(m), ct) },
    { name: `Gemini generateContent, ${ct ?? 'no content type'}`, shape: 'google', ...GEMINI, request: (m) => json(`/gemini/v1beta/models/${m}:generateContent`, gemini, ct) },
    { name: `Gemini OpenAI-compatible chat, ${ct ?? 'no content type'}`, shape: 'google', ...GEMINI, request: (m) => json('/gemini/v1beta/openai/chat/completions', chat(m), ct) },
    { name: `Vertex generateContent, ${ct ?? 'no content type'}`, shape: 'google', ...GEMINI, request: (m) => json(`/google-vertex/v1beta1/publishers/google/models/${m}:generateContent`, gemini, ct) },
    { name: `Vertex Claude rawPredict, ${ct ?? 'no content type'}`, shape: 'google', ...VERTEX_CLAUDE, request: (m) => json(`/google-vertex/v1/projects/p/locations/us-east5/publishers/anthropic/models/${m}:rawPredict`, { anthropic_version: 'vertex-2023-10-16', ...chat(m), model: undefined }, ct) },
    { name: `Vertex Anthropic messages, ${ct ?? 'no content type'}`, shape: 'anthropic', ...VERTEX_CLAUDE, request: (m) => json('/google-vertex/v1/messages', chat(m), ct) },
    { name: `Bedrock converse, ${ct ?? 'no content type'}`, shape: 'bedrock', ...BEDROCK, request: (m) => json(`/bedrock/model/${encodeURIComponent(m)}/converse`, converse, ct) },
    { name: `Bedrock Anthropic messages, ${ct ?? 'no content type'}`, shape: 'anthropic', ...BEDROCK, request: (m) => json('/bedrock/v1/messages', chat(m), ct) },
    // The front door: the model names a route, which forwards to its provider's OpenAI-compatible endpoint.
    { name: `front door to OpenAI, ${ct ?? 'no content type'}`, shape: 'openai', denied: 'openai:gpt-5', allowed: 'openai:gpt-4o-mini', request: (m) => json('/v1/chat/completions', chat(m), ct) },
    { name: `front door to Anthropic, ${ct ?? 'no content type'}`, shape: 'openai', denied: 'anthropic:claude-opus-4-1', allowed: 'anthropic:claude-3-5-haiku-latest', request: (m) => json('/v1/chat/completions', chat(m), ct) },
    { name: `front door to Gemini, ${ct ?? 'no content type'}`, shape: 'openai', denied: 'gemini:gemini-2.5-pro', allowed: 'gemini:gemini-2.0-flash', request: (m) => json('/v1/chat/completions', chat(m), ct) },
  ]),
  // Multipart: the model is the form field.
  { name: 'OpenAI audio transcription (multipart)', shape: 'openai', denied: 'whisper-1', allowed: 'gpt-4o-mini-transcribe', request: (m) => form('/openai/audio/transcriptions', m) },
  { name: 'OpenAI audio transcription, Multipart/Form-Data', shape: 'openai', denied: 'whisper-1', allowed: 'gpt-4o-mini-transcribe', request: (m) => form('/openai/audio/transcriptions', m, (b) => `Multipart/Form-Data; boundary=${b}`) },
  { name: 'OpenAI audio translation (multipart)', shape: 'openai', denied: 'whisper-1', allowed: 'gpt-4o-mini-transcribe', request: (m) => form('/openai/audio/translations', m) },
  { name: 'OpenAI image edit (multipart)', shape: 'openai', denied: 'gpt-image-1', allowed: 'gpt-4o-mini', request: (m) => form('/openai/images/edits', m) },
  { name: 'Groq audio transcription (multipart)', shape: 'openai', denied: 'whisper-large-v3', allowed: 'gpt-4o-mini-transcribe', request: (m) => form('/groq/openai/v1/audio/transcriptions', m) },
  // Batches: a file-based batch cannot be checked; an inline Anthropic batch is checked request by request.
  { name: 'OpenAI batch', shape: 'openai', ...OPENAI, request: (m) => json('/openai/batches', { input_file_id: 'file-1', endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { model: m } }) },
  { name: 'Groq batch', shape: 'openai', ...OPENAI, request: () => json('/groq/openai/v1/batches', { input_file_id: 'file-1', endpoint: '/v1/chat/completions', completion_window: '24h' }) },
  {
    name: 'Anthropic inline batch',
    shape: 'anthropic',
    ...CLAUDE,
    request: (m) => json('/anthropic/v1/messages/batches', { requests: [{ custom_id: 'a', params: chat('claude-3-5-haiku-latest') }, { custom_id: 'b', params: chat(m) }] }),
  },
  { name: 'Anthropic inline batch, text/plain', shape: 'anthropic', ...CLAUDE, request: (m) => json('/anthropic/v1/messages/batches', { requests: [{ custom_id: 'b', params: chat(m) }] }, 'text/plain') },
  { name: 'Gemini batchGenerateContent', shape: 'google', ...GEMINI, request: (m) => json(`/gemini/v1beta/models/${m}:batchGenerateContent`, { batch: {} }) },
  { name: 'Vertex batchPredictionJobs (a batch: refused for limited keys)', shape: 'google', ...GEMINI, request: (m) => json('/google-vertex/v1/projects/p/locations/us-central1/batchPredictionJobs', { model: `publishers/google/models/${m}` }) },
  // Paths: normalised once, before matching.
  ...[
    (m: string) => `/gemini/v1beta/models/${m}:generateContent/`,
    (m: string) => `/gemini/v1beta//models/${m}:generateContent`,
    (m: string) => `/gemini//v1beta/models//${m}:generateContent//`,
    (m: string) => `/gemini/v1beta/models/${m}%3AgenerateContent`,
    (m: string) => `/gemini/v1beta/models/${m.replace(/-/g, '%2D')}:generateContent`,
    (m: string) => `/gemini/v1beta/models/${m.replace('g', '%67')}:streamGenerateContent/?alt=sse`,
    (m: string) => `/gemini/v1alpha/models/${m}:generateContent/`,
    (m: string) => `/google-vertex/v1beta1/publishers/google/models/${m}:generateContent/`,
    (m: string) => `/google-vertex//v1beta1//publishers/google/models/${m}%3AstreamGenerateContent`,
    (m: string) => `/google-vertex/v1/projects/p/locations/us-central1/publishers/google/models/${m.replace(/-/g, '%2d')}:generateContent`,
  ].map((p): Variant => ({ name: `Gemini/Vertex path ${p('{model}')}`, shape: 'google', ...GEMINI, request: (m) => json(p(m), gemini) })),
  ...[
    (m: string) => `/bedrock/model/${encodeURIComponent(m)}/converse/`,
    (m: string) => `/bedrock//model//${encodeURIComponent(m)}//converse-stream`,
    (m: string) => `/bedrock/model/${m}/invoke`,
    (m: string) => `/bedrock/model/${encodeURIComponent(m).replace(/-/g, '%2D')}/invoke-with-response-stream/`,
  ].map((p): Variant => ({ name: `Bedrock path ${p('{model}')}`, shape: 'bedrock', ...BEDROCK, request: (m) => json(p(m), converse) })),
  { name: 'Anthropic path //v1//messages/', shape: 'anthropic', ...CLAUDE, request: (m) => json('/anthropic//v1//messages/', chat(m)) },
  { name: 'OpenAI path /v1//chat/completions/', shape: 'openai', ...OPENAI, request: (m) => json('/openai/v1//chat/completions/', chat(m)) },
  { name: 'front door path /v1//chat/completions/', shape: 'openai', denied: 'openai:gpt-5', allowed: 'openai:gpt-4o-mini', request: (m) => json('/v1//chat/completions/', chat(m)) },
  { name: 'front door embeddings, text/plain', shape: 'openai', denied: 'openai:text-embedding-3-large', allowed: 'openai:gpt-4o-mini', request: (m) => json('/v1/embeddings', { model: m, input: 'hi' }, 'text/plain') },
  { name: 'OpenAI path chat%2Fcompletions (an encoded slash is not a separator: no row)', shape: 'openai', ...OPENAI, deniedStatus: 404, request: (m) => json('/openai/chat%2Fcompletions', chat(m)) },
]

async function send(v: Variant, model: string): Promise<{ status: number; body: string; headers: Headers }> {
  const { path, init } = v.request(model)
  const res = await fetch(`${gateway.url}${path}`, { method: 'POST', ...init, headers: { ...auth, ...(init.headers as Record<string, string>) } })
  return { status: res.status, body: await res.text(), headers: res.headers }
}

/** The error is the provider's own shape. */
function expectShape(v: Variant, r: { body: string; headers: Headers }) {
  const body = JSON.parse(r.body) as Record<string, any>
  if (v.shape === 'openai') expect(typeof body.error?.message).toBe('string')
  if (v.shape === 'anthropic') expect(body).toMatchObject({ type: 'error', error: { type: expect.any(String) } })
  if (v.shape === 'google') expect(body.error).toMatchObject({ code: expect.any(Number), status: expect.any(String) })
  if (v.shape === 'bedrock') {
    expect(r.headers.get('x-amzn-errortype')).toBeTruthy()
    expect(typeof body.message).toBe('string')
  }
}

const budget = () => gateway.gw.spend.budget.state(scopeKey('key', 'test-key'))

describe('a model the key may not use: refused, upstream never called, nothing spent', () => {
  for (const v of VARIANTS) {
    test(v.name, async () => {
      const before = calls
      const r = await send(v, v.denied)
      expect(r.status).toBe(v.deniedStatus ?? 403)
      expectShape(v, r)
      expect(calls).toBe(before)
      expect(budget().windows.day.spent).toBe(0)
      expect(budget().windows.day.reserved).toBe(0)
    })
  }
  test('a body that is not JSON on a JSON endpoint is a native 400, whatever its content type', async () => {
    const before = calls
    for (const [path, ct] of [
      ['/openai/chat/completions', 'text/plain'],
      ['/anthropic/v1/messages', 'application/JSON'],
      ['/bedrock/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse', undefined],
      ['/gemini/v1beta/openai/chat/completions', 'text/plain'],
    ] as const) {
      const res = await fetch(`${gateway.url}${path}`, { method: 'POST', headers: { ...auth, ...(ct ? { 'content-type': ct } : {}) }, body: 'model=gpt-5' })
      expect(res.status).toBe(400)
      await res.arrayBuffer()
    }
    expect(calls).toBe(before)
  })
  test('a path no row matches is a native 404 naming it', async () => {
    const res = await fetch(`${gateway.url}/openai/some/unknown/path`, { method: 'POST', headers: auth, body: '{}' })
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('some/unknown/path')
  })
  test('ledger: nothing was reserved or spent', async () => {
    await gateway.gw.spend.ledger.flush()
    const n = (await gateway.gw.database.client.execute({ sql: "SELECT count(*) AS n FROM spend_ledger WHERE key_id = 'test-key' AND cost_nanos > 0", args: [] })).rows[0]!
    expect(Number(n.n)).toBe(0)
  })
})

describe('after the limit is spent, every variant is refused, even for a model the key may use', () => {
  beforeAll(async () => {
    // One allowed request whose upstream reports 100k input tokens spends past the $0.01.
    const res = await fetch(`${gateway.url}/openai/chat/completions`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(chat('gpt-4o-mini')) })
    expect(res.status).toBe(200)
    await res.arrayBuffer()
    for (let i = 0; i < 100 && budget().inflight > 0; i++) await Bun.sleep(10)
    expect(budget().windows.day.spent).toBeGreaterThan(10_000_000)
  })
  for (const v of VARIANTS) {
    test(v.name, async () => {
      const before = calls
      const r = await send(v, v.allowed)
      expect(r.status).toBeGreaterThanOrEqual(400)
      expect(r.status).toBeLessThan(500)
      expectShape(v, r)
      expect(calls).toBe(before)
    })
  }
})
