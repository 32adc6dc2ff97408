/**
 * @google/genai in API-key mode, pointed at the gateway's /gemini route, against replayed Gemini
 * API recordings: the SDK's parsed result equals the recording, the provider key travels in
 * x-goog-api-key (never the URL, never the gateway key), and usage is read for pricing.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { GoogleGenAI } from '@google/genai'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette, type Interaction } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'
import { GEMINI_KEY, eventually, geminiToml, plain, recordSink, sseData } from './support'

let upstream: ReplayUpstream
let gateway: TestGateway
const sink = recordSink()

beforeAll(async () => {
  upstream = startReplayUpstream([])
  gateway = await startGateway(basicConfig(geminiToml(upstream.url)), { sinks: [sink] })
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop()
})

const sdk = () => new GoogleGenAI({ apiKey: CANARY.gatewayKey, httpOptions: { baseUrl: `${gateway.url}/gemini`, apiVersion: 'v1beta' } })

async function use(name: string): Promise<Interaction[]> {
  const c = await loadCassette('google', name)
  upstream.use(c.interactions)
  return c.interactions
}

function expectOnlyProviderKey(h: Headers) {
  expect(h.get('x-goog-api-key')).toBe(GEMINI_KEY)
  expect(h.get('authorization')).toBeNull()
  for (const [, v] of h) expect(v).not.toContain(CANARY.gatewayKey)
}

const lastRecord = (path: string) => sink.records.findLast((r) => r.path.endsWith(path))

describe('@google/genai (API key) through /gemini', () => {
  test('generateContent: the parsed result equals the recording; usage read', async () => {
    const [x] = await use('test_google_model')
    const res = await sdk().models.generateContent({
      model: 'gemini-2.5-flash',
      contents: [{ role: 'user', parts: [{ text: 'Hello!' }] }],
      config: { systemInstruction: { role: 'user', parts: [{ text: 'You are a chatbot.' }] }, responseModalities: ['TEXT'] },
    })
    expect(plain(res)).toEqual(x!.responseJson)
    const sent = upstream.received.at(-1)!
    expect(sent.pathAndQuery).toBe('/v1beta/models/gemini-2.5-flash:generateContent')
    expect(sent.json).toEqual(x!.requestBody)
    expectOnlyProviderKey(sent.headers)

    await eventually(() => !!lastRecord('gemini-2.5-flash:generateContent'), 'request record')
    const rec = lastRecord('gemini-2.5-flash:generateContent')!
    const um = (x!.responseJson as { usageMetadata: Record<string, number> }).usageMetadata
    expect(rec.provider).toBe('gemini')
    expect(rec.model).toBe('gemini-2.5-flash')
    expect(rec.usage?.model).toBe('gemini-2.5-flash')
    expect(rec.usage?.tokens.input_tokens).toBe(um.promptTokenCount)
    // Thinking tokens are billed as output.
    expect(rec.usage?.tokens.output_tokens).toBe(um.candidatesTokenCount! + um.thoughtsTokenCount!)
    expect(rec.usage?.raw).toEqual(um)
  })

  test('streamGenerateContent (alt=sse): every chunk equals the recording; the LAST usageMetadata counts', async () => {
    const [x] = await use('test_google_model_stream')
    const stream = await sdk().models.generateContentStream({
      model: 'gemini-2.0-flash-exp',
      contents: [{ role: 'user', parts: [{ text: 'What is the capital of France?' }] }],
      config: { systemInstruction: { role: 'user', parts: [{ text: 'You are a helpful chatbot.' }] }, temperature: 0 },
    })
    const chunks: unknown[] = []
    for await (const c of stream) chunks.push(plain(c))
    const recorded = sseData(x!.responseBody) as { usageMetadata: Record<string, number> }[]
    expect(chunks).toEqual(recorded)
    const sent = upstream.received.at(-1)!
    expect(sent.pathAndQuery).toBe('/v1beta/models/gemini-2.0-flash-exp:streamGenerateContent?alt=sse')
    expect(sent.json).toEqual(x!.requestBody)
    expect(sent.headers.get('accept-encoding')).toBe('identity')
    expectOnlyProviderKey(sent.headers)

    await eventually(() => !!lastRecord(':streamGenerateContent'), 'stream record')
    const rec = lastRecord(':streamGenerateContent')!
    const last = recorded.at(-1)!.usageMetadata
    // The first chunks report 15 prompt tokens, the last 13: the last one is the bill.
    expect(recorded[0]!.usageMetadata.promptTokenCount).not.toBe(last.promptTokenCount)
    expect(rec.stream).toBe(true)
    expect(rec.usage?.tokens.input_tokens).toBe(last.promptTokenCount)
    expect(rec.usage?.tokens.output_tokens).toBe(last.candidatesTokenCount)
    expect(rec.usage?.model).toBe('gemini-2.0-flash-exp')
  })

  test('countTokens equals the recording, and bills nothing', async () => {
    const [x] = await use('test_google_model_usage_limit_exceeded')
    const res = await sdk().models.countTokens({ model: 'gemini-2.5-flash', contents: [{ role: 'user', parts: [{ text: 'The quick brown fox jumps over the lazydog.' }] }] })
    // The SDK's CountTokensResponse keeps totalTokens (and cachedContentTokenCount) of the Gemini API's answer.
    const { totalTokens } = x!.responseJson as { totalTokens: number }
    expect(plain(res)).toEqual({ totalTokens })
    expect(upstream.received.at(-1)!.pathAndQuery).toBe('/v1beta/models/gemini-2.5-flash:countTokens')
    await eventually(() => !!lastRecord(':countTokens'), 'record')
    expect(lastRecord(':countTokens')!.usage).toBeUndefined()
  })

  test('a key= query parameter never reaches the provider; other parameters do', async () => {
    const [x] = await use('test_google_model_stream')
    const res = await fetch(`${gateway.url}/gemini/v1beta/models/gemini-2.0-flash-exp:streamGenerateContent?key=${CANARY.gatewayKey}&alt=sse`, {
      method: 'POST',
      headers: { 'x-goog-api-key': CANARY.gatewayKey, 'content-type': 'application/json' },
      body: JSON.stringify(x!.requestBody),
    })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe(new TextDecoder().decode(x!.responseBody))
    const sent = upstream.received.at(-1)!
    expect(sent.pathAndQuery).toBe('/v1beta/models/gemini-2.0-flash-exp:streamGenerateContent?alt=sse')
    expectOnlyProviderKey(sent.headers)
  })

  test('models.list, models.get and embedContent pass through with the provider key', async () => {
    const seen: { path: string; key: string | null; body: string }[] = []
    const stub = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      async fetch(req) {
        const u = new URL(req.url)
        seen.push({ path: u.pathname + u.search, key: req.headers.get('x-goog-api-key'), body: await req.text() })
        if (u.pathname === '/v1beta/models') return Response.json({ models: [{ name: 'models/gemini-2.5-flash', displayName: 'Gemini 2.5 Flash' }] })
        if (u.pathname === '/v1beta/models/gemini-2.5-flash') return Response.json({ name: 'models/gemini-2.5-flash', displayName: 'Gemini 2.5 Flash' })
        if (u.pathname.endsWith(':batchEmbedContents')) return Response.json({ embeddings: [{ values: [0.25, -0.5] }] })
        return Response.json({ error: { code: 404, message: 'stub', status: 'NOT_FOUND' } }, { status: 404 })
      },
    })
    const gw = await startGateway(basicConfig(geminiToml(`http://127.0.0.1:${stub.port}`)))
    try {
      const ai = new GoogleGenAI({ apiKey: CANARY.gatewayKey, httpOptions: { baseUrl: `${gw.url}/gemini`, apiVersion: 'v1beta' } })
      const names: string[] = []
      for await (const m of await ai.models.list()) names.push(m.name!)
      expect(names).toEqual(['models/gemini-2.5-flash'])
      expect((await ai.models.get({ model: 'gemini-2.5-flash' })).displayName).toBe('Gemini 2.5 Flash')
      const emb = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: 'hello' })
      expect(emb.embeddings?.[0]?.values).toEqual([0.25, -0.5])
      expect(seen.map((s) => s.path.replace(/\?.*$/, ''))).toEqual(['/v1beta/models', '/v1beta/models/gemini-2.5-flash', '/v1beta/models/gemini-embedding-001:batchEmbedContents'])
      for (const s of seen) expect(s.key).toBe(GEMINI_KEY)
    } finally {
      await gw.stop()
      stub.stop(true)
    }
  })
})
