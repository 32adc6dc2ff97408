/**
 * Anthropic Messages on Vertex: @anthropic-ai/sdk pointed at GW/google-vertex sends /v1/messages;
 * the upstream replays Anthropic recordings at the rawPredict / streamRawPredict paths. The body
 * Vertex receives is the SDK's with `anthropic_version` added and `model` removed, nothing else.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette, type Interaction } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'
import { startOAuthServer, type OAuthServer } from '../support/oauth-server'
import { SA_ENV, eventually, recordSink, sseData, vertexToml } from './support'

let oauth: OAuthServer
let upstream: ReplayUpstream
let gateway: TestGateway
const sink = recordSink()
const PREFIX = '/v1/projects/claude-proj/locations/us-east5/publishers/anthropic/models'

beforeAll(async () => {
  oauth = await startOAuthServer()
  upstream = startReplayUpstream([])
  const toml = vertexToml({
    baseUrl: upstream.url,
    tokenUrl: oauth.tokenUrl,
    project: 'claude-proj',
    region: 'us-east5',
    extra: 'model_aliases = { "claude-sonnet-4-5" = "claude-sonnet-4-5@20250929" }',
  })
  gateway = await startGateway(basicConfig(toml), { env: { [SA_ENV]: oauth.accountJson }, sinks: [sink] })
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop()
  oauth.stop()
})

/** The SDK, with the exact body text it sends kept for comparison. */
function client() {
  const sent: string[] = []
  const c = new Anthropic({
    apiKey: CANARY.gatewayKey,
    baseURL: `${gateway.url}/google-vertex`,
    maxRetries: 0,
    fetch: async (url, init) => {
      if (typeof init?.body === 'string') sent.push(init.body)
      return fetch(url, init)
    },
  })
  return { c, sent }
}

/** The recorded exchange, as Vertex would see it: at the Vertex path, with the Vertex body. */
function atVertex(x: Interaction, path: string, body: Record<string, unknown>): Interaction {
  return { ...x, path, pathAndQuery: path, requestBody: body }
}

function vertexBody(recorded: unknown, keepModel = false): Record<string, unknown> {
  const { model, ...rest } = recorded as Record<string, unknown>
  return { anthropic_version: 'vertex-2023-10-16', ...rest, ...(keepModel ? { model } : {}) }
}

/** The SDK's own text with the one documented change applied by hand. */
function expectedText(sdkText: string, model: string): string {
  const without = sdkText.replace(`"model":${JSON.stringify(model)},`, '')
  expect(without).not.toBe(sdkText)
  return `{"anthropic_version":"vertex-2023-10-16",${without.slice(1)}`
}

describe('@anthropic-ai/sdk through /google-vertex', () => {
  test('messages: rawPredict with the Vertex body; the SDK result equals the recording', async () => {
    const [x] = (await loadCassette('anthropic', 'test_anthropic_model_instructions')).interactions
    const path = `${PREFIX}/claude-3-opus-latest:rawPredict`
    upstream.use([atVertex(x!, path, vertexBody(x!.requestBody))])
    const { c, sent } = client()
    const got = await c.messages.create(x!.requestBody as Anthropic.MessageCreateParamsNonStreaming)
    expect(got as unknown).toEqual(x!.responseJson)

    const up = upstream.received.at(-1)!
    expect(up.pathAndQuery).toBe(path)
    expect(up.json).toEqual(vertexBody(x!.requestBody))
    expect(new TextDecoder().decode(up.body)).toBe(expectedText(sent[0]!, 'claude-3-opus-latest'))
    expect(up.headers.get('authorization')).toBe(`Bearer ${oauth.issued.at(-1)}`)
    expect(up.headers.get('x-api-key')).toBeNull()
    for (const [, v] of up.headers) expect(v).not.toContain(CANARY.gatewayKey)

    await eventually(() => sink.records.some((r) => r.path === '/google-vertex/v1/messages' && !r.stream), 'record')
    const rec = sink.records.findLast((r) => r.path === '/google-vertex/v1/messages' && !r.stream)!
    const usage = (x!.responseJson as { usage: { input_tokens: number; output_tokens: number }; model: string })
    expect(rec.model).toBe('claude-3-opus-latest')
    expect(rec.usage?.model).toBe(usage.model)
    expect(rec.usage?.tokens.input_tokens).toBe(usage.usage.input_tokens)
    expect(rec.usage?.tokens.output_tokens).toBe(usage.usage.output_tokens)
  })

  test('a stream goes to streamRawPredict (model alias applied); the events equal the recording', async () => {
    const [x] = (await loadCassette('anthropic', 'test_request_stream_fallback_for_high_max_tokens')).interactions
    const path = `${PREFIX}/claude-sonnet-4-5@20250929:streamRawPredict`
    upstream.use([atVertex(x!, path, vertexBody(x!.requestBody))])
    const { c, sent } = client()
    const stream = await c.messages.create(x!.requestBody as Anthropic.MessageCreateParamsStreaming)
    const events: unknown[] = []
    for await (const e of stream) events.push(e)
    const recorded = sseData(x!.responseBody) as { type: string }[]
    expect(events).toEqual(recorded.filter((e) => e.type !== 'ping'))

    const up = upstream.received.at(-1)!
    expect(up.pathAndQuery).toBe(path)
    // `stream: true` stays in the body: Vertex wants it there too.
    expect(up.json).toEqual(vertexBody(x!.requestBody))
    expect(new TextDecoder().decode(up.body)).toBe(expectedText(sent[0]!, 'claude-sonnet-4-5'))

    await eventually(() => sink.records.some((r) => r.path === '/google-vertex/v1/messages' && r.stream), 'stream record')
    const rec = sink.records.findLast((r) => r.path === '/google-vertex/v1/messages' && r.stream)!
    const delta = recorded.findLast((e) => e.type === 'message_delta') as unknown as { usage: { input_tokens: number; output_tokens: number } }
    expect(rec.model).toBe('claude-sonnet-4-5@20250929')
    expect(rec.usage?.tokens.input_tokens).toBe(delta.usage.input_tokens)
    expect(rec.usage?.tokens.output_tokens).toBe(delta.usage.output_tokens)
  })

  test('count_tokens goes to count-tokens:rawPredict, keeping the (aliased) model in the body', async () => {
    const [x] = (await loadCassette('anthropic', 'test_anthropic_cache_count_tokens')).interactions
    expect(x!.path).toBe('/v1/messages/count_tokens')
    const body = { ...vertexBody(x!.requestBody, true), model: 'claude-sonnet-4-5@20250929' }
    upstream.use([atVertex(x!, `${PREFIX}/count-tokens:rawPredict`, body)])
    const { c } = client()
    const got = await c.beta.messages.countTokens(x!.requestBody as Anthropic.Beta.MessageCountTokensParams)
    expect(got as unknown).toEqual(x!.responseJson)
    const up = upstream.received.at(-1)!
    expect(up.pathAndQuery).toBe(`${PREFIX}/count-tokens:rawPredict`)
    expect(up.json).toEqual(body)
  })

  test('a bad gateway key is the SDK’s AuthenticationError, and nothing goes upstream', async () => {
    upstream.use([])
    const c = new Anthropic({ apiKey: 'not-a-key', baseURL: `${gateway.url}/google-vertex`, maxRetries: 0 })
    const err = await c.messages.create({ model: 'claude-3-5-haiku@20241022', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError)
    // Anthropic-format paths get the gateway's errors in Anthropic's shape, not Google's.
    expect(err.error).toEqual({ type: 'error', error: { type: 'authentication_error', message: 'Invalid or missing gateway key.' } })
    expect(upstream.received).toEqual([])
  })

  test('a body without a model is a 400 before anything goes upstream', async () => {
    upstream.use([])
    const res = await fetch(`${gateway.url}/google-vertex/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': CANARY.gatewayKey, 'content-type': 'application/json' },
      body: JSON.stringify({ max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'model: Field required' } })
    expect(upstream.received).toEqual([])
  })
})
