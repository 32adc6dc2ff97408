/**
 * Issue 14 §6: a model name is bounded before anything stores it. Oversized (2 MB in a body;
 * in a path, as long as the HTTP server takes) and malformed (control characters, encoded bytes)
 * model names on every route are refused with the provider's native 400; the upstream is never
 * called; the request log keeps a bounded row, the ledger none; the JSON log line stays short;
 * and no cache keyed by client values (pricing, max-output, metric labels) grows.
 * Memory (RSS) is measured by scripts/model-name-rss.ts, not here.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { maxOutputByModel } from '../../src/spend/estimate'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { startOAuthServer, type OAuthServer } from '../support/oauth-server'
import { SA_ENV, vertexToml } from '../google/support'

let calls = 0
let upstream: ReturnType<typeof Bun.serve>
let oauth: OAuthServer
let gateway: TestGateway
const lines: string[] = []

beforeAll(async () => {
  upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch() {
      calls++
      return Response.json({ ok: true })
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
      // No limit and every model allowed: only the bound stands between these names and the upstream.
      '[pricing]\nunknown_model = "allow"\n[logging]\nlevel = "info"\nformat = "json"',
    ),
    { env: { [SA_ENV]: oauth.accountJson }, logOutput: { write: async (t) => void lines.push(t) } },
  )
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop(true)
  oauth.stop()
})

const TWO_MB = 'gpt-4o-mini' + 'x'.repeat(2 * 1024 * 1024)
/** Longest path Bun's HTTP server takes is a few tens of KB: 8 KB reaches the gateway. */
const LONG_SEGMENT = 'gemini-2.0-flash' + 'x'.repeat(8 * 1024)
const BAD = ['gpt-4o-mini\n', 'gpt-4o-mini\u0000', 'gpt\u001b[31m', 'gpt-4o-mini\u007f']

type Shape = 'openai' | 'anthropic' | 'google' | 'bedrock'

/** The provider's own 400 shape. */
async function expectNative400(res: Response, shape: Shape) {
  expect(res.status).toBe(400)
  const body = (await res.json()) as Record<string, any>
  // A 2 MB form field is past the multipart parser's own limits: refused as an unreadable form, the same native 400.
  if (shape === 'openai') expect(body.error).toMatchObject({ type: 'invalid_request_error', code: expect.stringMatching(/^invalid_(model|multipart)$/) })
  if (shape === 'anthropic') expect(body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
  if (shape === 'google') expect(body.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' })
  if (shape === 'bedrock') {
    expect(res.headers.get('x-amzn-errortype')).toMatch(/^ValidationException/)
    expect(typeof body.message).toBe('string')
  }
  return res.headers.get('x-tollgate-request-id')!
}

interface Route {
  name: string
  shape: Shape
  send(model: string): Promise<Response>
}

const post = (path: string, body: unknown) =>
  fetch(`${gateway.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${CANARY.gatewayKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })

const messages = [{ role: 'user', content: 'hi' }]
const BODY_ROUTES: Route[] = [
  { name: 'OpenAI chat', shape: 'openai', send: (m) => post('/openai/chat/completions', { model: m, messages }) },
  { name: 'OpenAI responses', shape: 'openai', send: (m) => post('/openai/responses', { model: m, input: 'hi' }) },
  { name: 'OpenAI embeddings', shape: 'openai', send: (m) => post('/openai/embeddings', { model: m, input: 'hi' }) },
  {
    name: 'OpenAI audio transcription (multipart)',
    shape: 'openai',
    send: (m) => {
      const form = new FormData()
      form.set('model', m)
      form.set('file', new Blob([new Uint8Array(16)]), 'a.wav')
      return fetch(`${gateway.url}/openai/audio/transcriptions`, { method: 'POST', headers: { authorization: `Bearer ${CANARY.gatewayKey}` }, body: form })
    },
  },
  { name: 'front door chat', shape: 'openai', send: (m) => post('/v1/chat/completions', { model: m, messages }) },
  { name: 'front door chat, route:model', shape: 'openai', send: (m) => post('/v1/chat/completions', { model: `openai:${m}`, messages }) },
  { name: 'Groq chat', shape: 'openai', send: (m) => post('/groq/openai/v1/chat/completions', { model: m, messages }) },
  { name: 'Anthropic messages', shape: 'anthropic', send: (m) => post('/anthropic/v1/messages', { model: m, max_tokens: 5, messages }) },
  { name: 'Anthropic inline batch', shape: 'anthropic', send: (m) => post('/anthropic/v1/messages/batches', { requests: [{ custom_id: 'a', params: { model: m, max_tokens: 5, messages } }] }) },
  { name: 'Gemini OpenAI-compatible chat (body)', shape: 'google', send: (m) => post('/gemini/v1beta/openai/chat/completions', { model: m, messages }) },
  { name: 'Gemini cachedContents create (body)', shape: 'google', send: (m) => post('/gemini/v1beta/cachedContents', { model: m, contents: [] }) },
  { name: 'Vertex Anthropic v1/messages (body)', shape: 'anthropic', send: (m) => post('/google-vertex/v1/messages', { model: m, max_tokens: 5, messages }) },
  { name: 'Bedrock Anthropic v1/messages (body)', shape: 'anthropic', send: (m) => post('/bedrock/v1/messages', { model: m, max_tokens: 5, messages }) },
]

const PATH_ROUTES: Route[] = [
  { name: 'Gemini generateContent (path)', shape: 'google', send: (m) => post(`/gemini/v1beta/models/${m}:generateContent`, { contents: [] }) },
  { name: 'Gemini streamGenerateContent (path)', shape: 'google', send: (m) => post(`/gemini/v1beta/models/${m}:streamGenerateContent?alt=sse`, { contents: [] }) },
  { name: 'Vertex Gemini (path)', shape: 'google', send: (m) => post(`/google-vertex/v1beta1/publishers/google/models/${m}:generateContent`, { contents: [] }) },
  { name: 'Vertex Claude rawPredict (path)', shape: 'google', send: (m) => post(`/google-vertex/v1/projects/p/locations/us-east5/publishers/anthropic/models/${m}:rawPredict`, { max_tokens: 5, messages }) },
  { name: 'Bedrock converse (path)', shape: 'bedrock', send: (m) => post(`/bedrock/model/${encodeURIComponent(m)}/converse`, { messages: [] }) },
  { name: 'Bedrock invoke (path)', shape: 'bedrock', send: (m) => post(`/bedrock/model/${encodeURIComponent(m)}/invoke`, { messages: [] }) },
]

const ids: string[] = []

function cacheState() {
  return {
    pricing: gateway.gw.spend.pricer.cacheStats(),
    maxOutput: { entries: maxOutputByModel.size, bytes: maxOutputByModel.bytes },
    labels: gateway.gw.telemetry.metrics.labels.held,
  }
}

let before: ReturnType<typeof cacheState>

async function refused(route: Route, model: string) {
  const n = calls
  const id = await expectNative400(await route.send(model), route.shape)
  expect(calls).toBe(n)
  ids.push(id)
}

describe('oversized and malformed model names are a native 400 on every route, before anything records them', () => {
  beforeAll(async () => {
    // Warm the caches with one real request per shape, so what follows can only add a refused name.
    await post('/openai/chat/completions', { model: 'gpt-4o-mini', messages })
    before = cacheState()
  })

  for (const r of BODY_ROUTES) {
    test(`${r.name}: 2 MB and control characters`, async () => {
      await refused(r, TWO_MB)
      for (const m of BAD) await refused(r, m)
    })
  }
  for (const r of PATH_ROUTES) {
    test(`${r.name}: 8 KB, encoded bytes and control characters`, async () => {
      await refused(r, LONG_SEGMENT)
      // Encoded bytes in a path model: %0A, %00, and a slash that would mean another model upstream.
      for (const m of ['gemini-2.0-flash%0A', 'gemini-2.0-flash%00', 'gemini-2.0-flash%2F..%2Fgemini-2.5-pro']) {
        if (r.shape === 'bedrock') continue // Bedrock's model is the decoded segment: below
        const n = calls
        const id = await expectNative400(await post(r.name.startsWith('Vertex Claude') ? `/google-vertex/v1/projects/p/locations/us-east5/publishers/anthropic/models/${m}:rawPredict` : r.name.startsWith('Vertex') ? `/google-vertex/v1beta1/publishers/google/models/${m}:generateContent` : `/gemini/v1beta/models/${m}:generateContent`, { contents: [] }), r.shape)
        expect(calls).toBe(n)
        ids.push(id)
      }
      if (r.shape === 'bedrock') for (const m of BAD) await refused(r, m)
    })
  }
  test('a 2 MB path never reaches the gateway (the HTTP server refuses it) and is stored nowhere', async () => {
    const n = calls
    const res = await post(`/gemini/v1beta/models/gemini-2.0-flash${'x'.repeat(2 * 1024 * 1024)}:generateContent`, { contents: [] })
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(res.status).toBeLessThan(500)
    await res.arrayBuffer()
    expect(calls).toBe(n)
  })

  test('request log: one bounded row each; ledger: nothing; log lines: short', async () => {
    await gateway.gw.requestLog.flush()
    await gateway.gw.spend.ledger.flush()
    const db = gateway.gw.database.client
    const marks = ids.map(() => '?').join(',')
    const rows = (await db.execute({ sql: `SELECT id, status, model, path, length(model) AS ml, length(path) AS pl FROM request_log WHERE id IN (${marks})`, args: ids })).rows
    expect(rows.length).toBe(ids.length)
    for (const row of rows) {
      expect(Number(row.status)).toBe(400)
      expect(row.model === null || Number(row.ml) <= 256).toBe(true)
      expect(Number(row.pl)).toBeLessThanOrEqual(1025)
    }
    const ledger = (await db.execute({ sql: `SELECT count(*) AS n FROM spend_ledger WHERE request_id IN (${marks})`, args: ids })).rows[0]!
    expect(Number(ledger.n)).toBe(0)
    const all = (await db.execute({ sql: 'SELECT max(length(model)) AS m, max(length(path)) AS p FROM request_log', args: [] })).rows[0]!
    expect(Number(all.m)).toBeLessThanOrEqual(256)
    expect(Number(all.p)).toBeLessThanOrEqual(1025)
    // Every request's JSON log line, refused ones included, stays a few KB at most.
    const logged = () => lines.join('').split('\n').filter(Boolean)
    for (let i = 0; i < 200 && logged().length < ids.length; i++) await Bun.sleep(10)
    expect(logged().length).toBeGreaterThanOrEqual(ids.length)
    for (const l of logged()) expect(l.length).toBeLessThan(4096)
  })

  test('no cache keyed by client values grew', () => {
    const after = cacheState()
    expect(after.pricing).toEqual(before.pricing)
    expect(after.maxOutput.bytes).toBeLessThanOrEqual(before.maxOutput.bytes)
    // Refused requests are still counted by label; a long or malformed name is never a label value.
    expect(after.labels.chars - before.labels.chars).toBeLessThanOrEqual(16 * 256)
  })
})
