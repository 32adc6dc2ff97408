/**
 * @google/genai in Vertex mode, pointed at the gateway's /google-vertex route, against replayed
 * Vertex recordings. The gateway signs in as a service account at the local OAuth server, sends its
 * access token upstream, and rewrites every path to its own project and region.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { GoogleGenAI } from '@google/genai'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette, type Interaction } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'
import { startOAuthServer, type OAuthServer } from '../support/oauth-server'
import { SA_ENV, eventually, plain, recordSink, sseData, vertexToml } from './support'

let oauth: OAuthServer
let upstream: ReplayUpstream
let gateway: TestGateway
const sink = recordSink()

/** A gateway with one Vertex provider (project from the service account: pydantic-ai, region global). */
async function vertexGateway(extra = '') {
  return startGateway(basicConfig(vertexToml({ baseUrl: upstream.url, tokenUrl: oauth.tokenUrl, extra })), {
    env: { [SA_ENV]: oauth.accountJson },
    sinks: [sink],
  })
}

beforeAll(async () => {
  oauth = await startOAuthServer({ project: 'pydantic-ai' })
  upstream = startReplayUpstream([])
  gateway = await vertexGateway()
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop()
  oauth.stop()
})

/** Vertex express mode: a key and no project, so the SDK sends paths without projects/…, as pydantic-ai does. */
const expressSdk = (gw = gateway) => new GoogleGenAI({ vertexai: true, apiKey: CANARY.gatewayKey, httpOptions: { baseUrl: `${gw.url}/google-vertex` } })
/** With a client-side project and location, which the gateway replaces with its own. */
const projectSdk = () =>
  new GoogleGenAI({ vertexai: true, apiKey: CANARY.gatewayKey, project: 'client-project', location: 'us-central1', httpOptions: { baseUrl: `${gateway.url}/google-vertex` } })

async function use(name: string): Promise<Interaction[]> {
  const c = await loadCassette('google', name)
  upstream.use(c.interactions)
  return c.interactions
}

function expectOAuthToken(h: Headers): string {
  const auth = h.get('authorization') ?? ''
  expect(auth).toStartWith('Bearer ya29.test-')
  const token = auth.slice(7)
  expect(oauth.issued).toContain(token)
  expect(h.get('x-goog-api-key')).toBeNull()
  for (const [, v] of h) expect(v).not.toContain(CANARY.gatewayKey)
  return token
}

const imageRequest = {
  model: 'gemini-2.0-flash',
  contents: [
    {
      role: 'user',
      parts: [
        { text: 'What is the main content of this URL?' },
        { fileData: { fileUri: 'https://upload.wikimedia.org/wikipedia/commons/6/6a/Www.wikipedia_screenshot_%282021%29.png', mimeType: 'image/png' } },
      ],
    },
  ],
}

describe('@google/genai (Vertex) through /google-vertex', () => {
  test('generateContent without projects/…: rewritten to the provider project; the result equals the recording', async () => {
    const [x] = await use('test_google_url_input[ImageUrl]')
    const res = await expressSdk().models.generateContent(imageRequest)
    expect(plain(res)).toEqual(x!.responseJson)
    const sent = upstream.received.at(-1)!
    expect(sent.pathAndQuery).toBe('/v1beta1/projects/pydantic-ai/locations/global/publishers/google/models/gemini-2.0-flash:generateContent')
    expectOAuthToken(sent.headers)
    expect(oauth.refused).toEqual([])

    await eventually(() => sink.records.some((r) => r.path.endsWith('gemini-2.0-flash:generateContent')), 'record')
    const rec = sink.records.findLast((r) => r.path.endsWith('gemini-2.0-flash:generateContent'))!
    const um = (x!.responseJson as { usageMetadata: Record<string, number> }).usageMetadata
    expect(rec.api).toBe('google-vertex')
    expect(rec.model).toBe('gemini-2.0-flash')
    expect(rec.usage?.tokens.input_tokens).toBe(um.promptTokenCount)
    expect(rec.usage?.tokens.output_tokens).toBe(um.candidatesTokenCount)
  })

  test("a client's own projects/P/locations/L is replaced by the provider's", async () => {
    const [x] = await use('test_google_url_input[ImageUrl]')
    const res = await projectSdk().models.generateContent(imageRequest)
    expect(plain(res)).toEqual(x!.responseJson)
    expect(upstream.received.at(-1)!.pathAndQuery).toBe('/v1beta1/projects/pydantic-ai/locations/global/publishers/google/models/gemini-2.0-flash:generateContent')
    await eventually(() => sink.records.some((r) => r.path.includes('/projects/client-project/')), 'record')
    expect(sink.records.findLast((r) => r.path.includes('/projects/client-project/'))!.path).toBe(
      '/google-vertex/v1beta1/projects/client-project/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent',
    )
  })

  test('countTokens equals the recording', async () => {
    const [x] = await use('test_google_vertexai_count_tokens_forwards_native_tools')
    const res = await expressSdk().models.countTokens({
      model: 'gemini-2.5-flash',
      contents: [{ role: 'user', parts: [{ text: 'What is the capital of France?' }] }],
    })
    expect(res.totalTokens).toBe((x!.responseJson as { totalTokens: number }).totalTokens)
    expect(upstream.received.at(-1)!.pathAndQuery).toBe('/v1beta1/projects/pydantic-ai/locations/global/publishers/google/models/gemini-2.5-flash:countTokens')
  })

  test('streamGenerateContent (alt=sse): chunks equal the recording; usage from the last chunk', async () => {
    // No Vertex stream was recorded; a Gemini stream replayed at the Vertex path stands in (same wire format).
    const [g] = (await loadCassette('google', 'test_google_model_stream')).interactions
    const path = '/v1beta1/projects/pydantic-ai/locations/global/publishers/google/models/gemini-2.0-flash-exp:streamGenerateContent'
    upstream.use([{ ...g!, path, pathAndQuery: `${path}?alt=sse`, host: 'aiplatform.googleapis.com' }])
    const stream = await expressSdk().models.generateContentStream({
      model: 'gemini-2.0-flash-exp',
      contents: [{ role: 'user', parts: [{ text: 'What is the capital of France?' }] }],
      config: { systemInstruction: { role: 'user', parts: [{ text: 'You are a helpful chatbot.' }] }, temperature: 0 },
    })
    const chunks: unknown[] = []
    for await (const c of stream) chunks.push(plain(c))
    const recorded = sseData(g!.responseBody) as { usageMetadata: Record<string, number> }[]
    expect(chunks).toEqual(recorded)
    const sent = upstream.received.at(-1)!
    expect(sent.pathAndQuery).toBe(`${path}?alt=sse`)
    expect(sent.json).toEqual(g!.requestBody)
    expectOAuthToken(sent.headers)

    await eventually(() => sink.records.some((r) => r.path.endsWith(':streamGenerateContent')), 'stream record')
    const rec = sink.records.findLast((r) => r.path.endsWith(':streamGenerateContent'))!
    expect(rec.usage?.tokens.input_tokens).toBe(recorded.at(-1)!.usageMetadata.promptTokenCount)
    expect(rec.usage?.tokens.output_tokens).toBe(recorded.at(-1)!.usageMetadata.candidatesTokenCount)
  })
})

describe('access tokens through the gateway', () => {
  test('20 concurrent requests on a cold gateway make one token request', async () => {
    let arrived = 0
    const gw = await vertexGateway('')
    // Counts requests as they reach the pipeline (the token fetch holds them before admission).
    const handle = gw.gw.proxy.handle
    gw.gw.proxy.handle = (request, server) => (arrived++, handle(request, server))
    try {
      const [x] = await use('test_google_url_input[ImageUrl]')
      upstream.use(Array.from({ length: 20 }, () => x!))
      const before = oauth.requests
      const release = oauth.hold()
      const sdk = expressSdk(gw)
      const calls = Array.from({ length: 20 }, () => sdk.models.generateContent(imageRequest))
      await eventually(() => arrived === 20 && oauth.requests > before, 'all requests in, one token request out')
      release()
      const results = await Promise.all(calls)
      for (const r of results) expect(plain(r)).toEqual(x!.responseJson)
      expect(oauth.requests - before).toBe(1)
      const tokens = new Set(upstream.received.map((r) => expectOAuthToken(r.headers)))
      expect(tokens.size).toBe(1)
    } finally {
      await gw.stop()
    }
  })

  test('a token near expiry is refreshed before it expires, while requests keep flowing', async () => {
    oauth.expiresIn = 200 // inside the five-minute eager window, above the one-minute floor
    const gw = await vertexGateway()
    try {
      const [x] = await use('test_google_url_input[ImageUrl]')
      upstream.use(Array.from({ length: 3 }, () => x!))
      const sdk = expressSdk(gw)
      const issuedBefore = oauth.issued.length
      await sdk.models.generateContent(imageRequest)
      // The refresh this request starts is held: the request is served with the current token anyway.
      const release = oauth.hold()
      await sdk.models.generateContent(imageRequest)
      release()
      await eventually(() => oauth.issued.length === issuedBefore + 2, 'the background refresh')
      await sdk.models.generateContent(imageRequest)
      const used = upstream.received.map((r) => expectOAuthToken(r.headers))
      const [a, b] = oauth.issued.slice(issuedBefore)
      expect(used).toEqual([a!, a!, b!])
    } finally {
      oauth.expiresIn = 3600
      await gw.stop()
    }
  })
})
