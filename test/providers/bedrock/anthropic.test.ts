/**
 * The official @anthropic-ai/sdk against GW/bedrock (`/bedrock/v1/messages`): the gateway
 * moves the model into the path (through model_aliases), takes `model`/`stream` out of the
 * body, adds `anthropic_version`, and turns Bedrock's event-stream back into Anthropic SSE.
 * The upstream replays the Bedrock invoke recording, and an Anthropic stream re-framed the
 * way Bedrock frames it (no Bedrock invoke stream was recorded).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../../support/gateway'
import { loadCassette, type Interaction } from '../../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../../support/replay-upstream'
import { sseJson } from '../../support/sse'
import type { RequestRecord } from '../../../src/proxy/record'
import { BEDROCK, apiKeyProviderToml, exceptionFrame, reframeAnthropicSse } from './support'

const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'
const HAIKU = 'eu.anthropic.claude-haiku-4-5-20251001-v1:0'

let upstream: ReplayUpstream
let gateway: TestGateway
const records: RequestRecord[] = []

beforeAll(async () => {
  upstream = startReplayUpstream([])
  const aliases = `model_aliases = { "claude-sonnet-4-5" = "${SONNET}", "claude-haiku-4-5" = "${HAIKU}" }`
  gateway = await startGateway(basicConfig(apiKeyProviderToml(upstream.url, aliases)), { sinks: [{ record: (r) => records.push(r) }] })
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop()
})

const client = (apiKey = CANARY.gatewayKey) => new Anthropic({ apiKey, baseURL: `${gateway.url}/bedrock`, maxRetries: 0 })

function invokeInteraction(modelId: string, op: string, requestBody: unknown, status: number, body: Uint8Array, contentType: string): Interaction {
  const path = `/model/${encodeURIComponent(modelId)}/${op}`
  return {
    method: 'POST',
    pathAndQuery: path,
    path,
    host: 'bedrock-runtime.us-east-1.amazonaws.com',
    requestHeaders: {},
    requestBody,
    status,
    responseHeaders: { 'content-type': [contentType] },
    responseBody: body,
    responseJson: undefined,
    contentType,
  }
}

/** The recorded Anthropic stream and the Bedrock invoke request it becomes. */
async function streamCase() {
  const [rec] = (await loadCassette('anthropic', 'test_request_stream_fallback_for_high_max_tokens')).interactions
  const clientBody = rec!.requestBody as Record<string, unknown>
  const { model: _m, stream: _s, ...rest } = clientBody
  return { rec: rec!, clientBody, invokeBody: { anthropic_version: 'bedrock-2023-05-31', ...rest } }
}

describe('Anthropic SDK on /bedrock/v1/messages', () => {
  test('JSON: each recorded Bedrock invoke answers the SDK as Anthropic would', async () => {
    const c = await loadCassette('anthropic', 'test_anthropic_cache_bedrock_real_api')
    upstream.use(c.interactions)
    for (const x of c.interactions) {
      const { anthropic_version, ...body } = x.requestBody as Record<string, unknown>
      expect(anthropic_version).toBe('bedrock-2023-05-31')
      const got = await client().messages.create({ model: 'claude-haiku-4-5', ...body } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      expect(got as unknown).toEqual(x.responseJson)
      const sent = upstream.received.at(-1)!
      expect(sent.pathAndQuery).toBe(`/model/${encodeURIComponent(HAIKU)}/invoke`)
      expect(sent.json).toEqual(x.requestBody)
      expect(sent.headers.get('authorization')).toBe(`Bearer ${BEDROCK.apiKey}`)
      expect(sent.headers.get('x-api-key')).toBeNull()
    }
    await Bun.sleep(0)
    expect(records.at(-1)!.usage?.tokens.cache_write_tokens).toBe(1956)
  })

  test('streaming: the SDK gets the recorded Anthropic events from a Bedrock event-stream', async () => {
    const { rec, clientBody, invokeBody } = await streamCase()
    const frames = reframeAnthropicSse(rec.responseBody, { inputTokenCount: 20, outputTokenCount: 5, invocationLatency: 9, firstByteLatency: 3 })
    upstream.use([invokeInteraction(SONNET, 'invoke-with-response-stream', invokeBody, 200, frames, 'application/vnd.amazon.eventstream')])
    const stream = await client().messages.create(clientBody as unknown as Anthropic.MessageCreateParamsStreaming)
    const events: unknown[] = []
    for await (const e of stream) events.push(e)
    const want = sseJson(rec.responseBody, ['ping'])
    expect(events.slice(0, -1)).toEqual(want.slice(0, -1))
    expect(events.at(-1)).toMatchObject({ type: 'message_stop' })
    const sent = upstream.received.at(-1)!
    expect(sent.pathAndQuery).toBe(`/model/${encodeURIComponent(SONNET)}/invoke-with-response-stream`)
    expect(sent.json).toEqual(invokeBody)
    await Bun.sleep(0)
    const r = records.at(-1)!
    expect(r.stream).toBe(true)
    expect(r.usage?.tokens).toMatchObject({ input_tokens: 20, output_tokens: 5 })
  })

  test('streaming through the SDK helper: finalMessage() assembles the text', async () => {
    const { rec, clientBody, invokeBody } = await streamCase()
    upstream.use([invokeInteraction(SONNET, 'invoke-with-response-stream', invokeBody, 200, reframeAnthropicSse(rec.responseBody), 'application/vnd.amazon.eventstream')])
    const { stream: _s, ...params } = clientBody
    const msg = await client().messages.stream(params as unknown as Anthropic.MessageStreamParams).finalMessage()
    expect((msg.content[0] as Anthropic.TextBlock).text).toBe('2')
    expect(msg.stop_reason).toBe('end_turn')
  })

  test('anthropic-beta header becomes anthropic_beta in the Bedrock body', async () => {
    const { rec, clientBody, invokeBody } = await streamCase()
    const withBeta = { ...invokeBody, anthropic_beta: ['context-1m-2025-08-07'] }
    upstream.use([invokeInteraction(SONNET, 'invoke-with-response-stream', withBeta, 200, reframeAnthropicSse(rec.responseBody), 'application/vnd.amazon.eventstream')])
    const stream = await client().beta.messages.create({ ...(clientBody as object), betas: ['context-1m-2025-08-07'] } as unknown as Anthropic.Beta.MessageCreateParamsStreaming)
    for await (const _ of stream) {
      // drain
    }
    expect(upstream.received.at(-1)!.json).toEqual(withBeta)
    expect(upstream.received.at(-1)!.pathAndQuery).not.toContain('beta=true')
  })

  test('a Bedrock stream exception reaches the SDK as an Anthropic error event', async () => {
    const { rec, clientBody, invokeBody } = await streamCase()
    const firstEvent = `event: message_start\ndata: ${JSON.stringify(sseJson(rec.responseBody)[0])}\n\n`
    const body = Buffer.concat([reframeAnthropicSse(firstEvent), exceptionFrame('modelStreamErrorException', 'The model stream failed.')])
    upstream.use([invokeInteraction(SONNET, 'invoke-with-response-stream', invokeBody, 200, body, 'application/vnd.amazon.eventstream')])
    const stream = await client().messages.create(clientBody as unknown as Anthropic.MessageCreateParamsStreaming)
    const seen: string[] = []
    const err = await (async () => {
      for await (const e of stream) seen.push(e.type)
    })().catch((e) => e)
    expect(seen).toEqual(['message_start'])
    expect(err).toBeInstanceOf(Anthropic.APIError)
    expect(String(err.message)).toContain('The model stream failed.')
  })

  test('errors on this route are in Anthropic shape: bad key, missing model, a path Bedrock does not serve', async () => {
    const bad = await client('tg-wrong-key-000000000000000000000000000000')
      .messages.create({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e) => e)
    expect(bad).toBeInstanceOf(Anthropic.AuthenticationError)
    expect(bad.error).toEqual({ type: 'error', error: { type: 'authentication_error', message: expect.any(String) } })

    const noModel = await client()
      .messages.create({ max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((e) => e)
    expect(noModel).toBeInstanceOf(Anthropic.BadRequestError)
    expect(noModel.error.error.type).toBe('invalid_request_error')

    const models = await client()
      .models.list()
      .catch((e) => e)
    expect(models).toBeInstanceOf(Anthropic.NotFoundError)
    expect(models.error.error.type).toBe('not_found_error')
  })

  test('count_tokens: Bedrock CountTokens with the InvokeModel body, answered in Anthropic shape', async () => {
    const cassette = await loadCassette('bedrock', 'test_bedrock_count_tokens_tool_config')
    upstream.use(cassette.interactions)
    const model = 'anthropic.claude-sonnet-4-20250514-v1:0'
    const params = {
      model,
      messages: [{ role: 'user' as const, content: 'What is the weather in Paris?' }],
      tools: [{ name: 'get_weather', description: 'Get the weather for a location', input_schema: { type: 'object' as const, properties: { location: { type: 'string' } } } }],
    }
    const got = await client().messages.countTokens(params)
    expect(got).toEqual({ input_tokens: (cassette.interactions[0]!.responseJson as { inputTokens: number }).inputTokens })
    const sent = upstream.received.at(-1)!
    expect(sent.pathAndQuery).toBe(cassette.interactions[0]!.pathAndQuery)
    const invoke = JSON.parse(Buffer.from((sent.json as { input: { invokeModel: { body: string } } }).input.invokeModel.body, 'base64').toString())
    expect(invoke).toEqual({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 1, messages: params.messages, tools: params.tools })
    expect(sent.headers.get('authorization')).toBe(`Bearer ${BEDROCK.apiKey}`)
    // Whole answers are recorded before they are returned.
    const rec = records.findLast((r) => r.path === '/bedrock/v1/messages/count_tokens')!
    expect(rec.status).toBe(200)
    expect(rec.costNanos ?? 0).toBe(0)

    // Bedrock's refusal (an unknown model) keeps its status and AWS body, so the SDK raises the matching class.
    upstream.use((await loadCassette('bedrock', 'test_bedrock_count_tokens_error')).interactions)
    const bad = await client()
      .messages.countTokens({ model: 'does-not-exist-model-v1:0', messages: [{ role: 'user', content: 'hello' }] })
      .catch((e) => e)
    expect(bad).toBeInstanceOf(Anthropic.BadRequestError)
    expect(bad.error).toEqual({ message: 'The provided model identifier is invalid.' })
  })

  test('an upstream Bedrock error keeps its status, so the SDK raises the matching class', async () => {
    const params = { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user' as const, content: 'hi' }] }
    const invokeBody = { anthropic_version: 'bedrock-2023-05-31', max_tokens: 16, messages: params.messages }
    const err = new TextEncoder().encode(JSON.stringify({ message: 'Too many requests, please wait before trying again.' }))
    upstream.use([invokeInteraction(SONNET, 'invoke', invokeBody, 429, err, 'application/json')])
    const got = await client().messages.create(params).catch((e) => e)
    expect(got).toBeInstanceOf(Anthropic.RateLimitError)
    expect(got.status).toBe(429)
    expect(upstream.received.at(-1)!.json).toEqual(invokeBody)
  })
})
