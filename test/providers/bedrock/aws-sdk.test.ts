/**
 * The official @aws-sdk/client-bedrock-runtime pointed at GW/bedrock with the gateway key as
 * its Bedrock API key (Bearer), against replayed Bedrock recordings: what the SDK parses
 * equals what the recording holds, and the request log gets the usage.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  ResourceNotFoundException,
  ValidationException,
  type ConverseCommandInput,
  type ConverseStreamCommandInput,
} from '@aws-sdk/client-bedrock-runtime'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../../support/gateway'
import { loadCassette, type Interaction } from '../../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../../support/replay-upstream'
import type { RequestRecord } from '../../../src/proxy/record'
import { sseJson } from '../../support/sse'
import { asSdkParses, recordedEvents, reframeAnthropicSse, sigv4ProviderToml, streamInteraction } from './support'

let upstream: ReplayUpstream
let gateway: TestGateway
const records: RequestRecord[] = []

beforeAll(async () => {
  upstream = startReplayUpstream([])
  // The recorded error asks for a model that does not exist, so no price: let it through to Bedrock.
  gateway = await startGateway(basicConfig(sigv4ProviderToml(upstream.url), '[pricing]\nunknown_model = "allow"'), { sinks: [{ record: (r) => records.push(r) }] })
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop()
})

/** With an HTTP/1.1 handler (for users who set one; the default HTTP/2 client: aws-sdk-default.test.ts), the gateway key as Bedrock API key. */
function client(token = CANARY.gatewayKey) {
  return new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: `${gateway.url}/bedrock`,
    token: { token },
    authSchemePreference: ['httpBearerAuth'],
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 1,
  })
}

async function use(folder: string, name: string): Promise<Interaction[]> {
  const c = await loadCassette(folder, name)
  upstream.use(c.interactions)
  return c.interactions
}

/** The model id from a recorded Bedrock path (`/model/<id>/<op>`). */
const modelOf = (x: Interaction) => decodeURIComponent(x.path.split('/')[2]!)

const lastRecord = async () => {
  await Bun.sleep(0)
  return records.at(-1)!
}

describe('AWS SDK (Bedrock Runtime) through the gateway', () => {
  test('Converse equals the recording, and usage is logged', async () => {
    const [x] = await use('bedrock', 'test_bedrock_model')
    const got = await client().send(new ConverseCommand({ modelId: modelOf(x!), ...(x!.requestBody as object) } as ConverseCommandInput))
    const { $metadata, ...output } = got
    expect($metadata.httpStatusCode).toBe(200)
    expect(output as unknown).toEqual(x!.responseJson)
    const sent = upstream.received.at(-1)!
    expect(sent.pathAndQuery).toBe('/model/us.amazon.nova-micro-v1%3A0/converse')
    const r = await lastRecord()
    const usage = (x!.responseJson as { usage: { inputTokens: number; outputTokens: number } }).usage
    expect(r.model).toBe('us.amazon.nova-micro-v1:0')
    expect(r.usage?.tokens.input_tokens).toBe(usage.inputTokens)
    expect(r.usage?.tokens.output_tokens).toBe(usage.outputTokens)
  })

  test('AWS_BEARER_TOKEN_BEDROCK alone (as users configure it) carries the gateway key', async () => {
    const [x] = await use('bedrock', 'test_bedrock_model')
    const saved = process.env.AWS_BEARER_TOKEN_BEDROCK
    process.env.AWS_BEARER_TOKEN_BEDROCK = CANARY.gatewayKey
    try {
      const c = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: `${gateway.url}/bedrock`, requestHandler: new NodeHttpHandler(), maxAttempts: 1 })
      const { $metadata: _, ...output } = await c.send(new ConverseCommand({ modelId: modelOf(x!), ...(x!.requestBody as object) } as ConverseCommandInput))
      expect(output as unknown).toEqual(x!.responseJson)
    } finally {
      if (saved === undefined) delete process.env.AWS_BEARER_TOKEN_BEDROCK
      else process.env.AWS_BEARER_TOKEN_BEDROCK = saved
    }
  })

  test('ConverseStream yields the recorded events, and the metadata usage is logged', async () => {
    const [x] = await use('bedrock', 'test_bedrock_model_stream')
    const got = await client().send(new ConverseStreamCommand({ modelId: modelOf(x!), ...(x!.requestBody as object) } as ConverseStreamCommandInput))
    const events: unknown[] = []
    for await (const e of got.stream!) events.push(JSON.parse(JSON.stringify(e)))
    const want = recordedEvents(x!.responseBody)
    expect(events.length).toBe(want.length)
    expect(events).toEqual(asSdkParses(want) as unknown[])
    const meta = want.find((e) => 'metadata' in e)!.metadata as { usage: { inputTokens: number; outputTokens: number } }
    const r = await lastRecord()
    expect(r.stream).toBe(true)
    expect(r.usage?.tokens.input_tokens).toBe(meta.usage.inputTokens)
    expect(r.usage?.tokens.output_tokens).toBe(meta.usage.outputTokens)
  })

  test('InvokeModel returns the recorded Anthropic body; Anthropic usage (with cache) is logged', async () => {
    const [x] = await use('anthropic', 'test_anthropic_cache_bedrock_real_api')
    const got = await client().send(
      new InvokeModelCommand({ modelId: modelOf(x!), contentType: 'application/json', accept: 'application/json', body: JSON.stringify(x!.requestBody) }),
    )
    expect(JSON.parse(new TextDecoder().decode(got.body))).toEqual(x!.responseJson)
    const r = await lastRecord()
    const u = (x!.responseJson as { usage: Record<string, number> }).usage
    expect(u.cache_read_input_tokens).toBeGreaterThan(0)
    expect(r.usage?.tokens).toEqual({
      input_tokens: u.input_tokens! + u.cache_read_input_tokens! + u.cache_creation_input_tokens!,
      cache_read_tokens: u.cache_read_input_tokens,
      cache_write_tokens: u.cache_creation_input_tokens,
      output_tokens: u.output_tokens,
    })
    expect(r.usage?.model).toBe('claude-haiku-4-5-20251001')
  })

  test('InvokeModelWithResponseStream yields every chunk; usage from the Anthropic events', async () => {
    // No Bedrock invoke stream was recorded: an Anthropic stream re-framed as Bedrock sends it.
    const [rec] = (await loadCassette('anthropic', 'test_request_stream_fallback_for_high_max_tokens')).interactions
    const modelId = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'
    const { model: _m, stream: _s, ...body } = rec!.requestBody as Record<string, unknown>
    const invokeBody = { anthropic_version: 'bedrock-2023-05-31', ...body }
    const frames = reframeAnthropicSse(rec!.responseBody, { inputTokenCount: 20, outputTokenCount: 5, invocationLatency: 100, firstByteLatency: 50 })
    upstream.use([streamInteraction(modelId, invokeBody, frames)])
    const got = await client().send(new InvokeModelWithResponseStreamCommand({ modelId, contentType: 'application/json', body: JSON.stringify(invokeBody) }))
    const chunks: unknown[] = []
    for await (const e of got.body!) chunks.push(JSON.parse(new TextDecoder().decode(e.chunk!.bytes)))
    const want = sseJson(rec!.responseBody, ['ping'])
    expect(chunks.length).toBe(want.length)
    expect(chunks.slice(0, -1)).toEqual(want.slice(0, -1))
    expect(chunks.at(-1)).toMatchObject({ type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 20 } })
    expect(upstream.received.at(-1)!.pathAndQuery).toBe('/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream')
    const r = await lastRecord()
    expect(r.usage?.tokens.input_tokens).toBe(20)
    expect(r.usage?.tokens.output_tokens).toBe(5)
    expect(r.usage?.model).toBe('claude-sonnet-4-5-20250929')
  })

  test('a recorded Bedrock 400 reaches the SDK with its status and message', async () => {
    const [x] = await use('bedrock', 'test_bedrock_error')
    const err = await client()
      .send(new ConverseCommand({ modelId: modelOf(x!), ...(x!.requestBody as object) } as ConverseCommandInput))
      .catch((e) => e)
    expect(err.$metadata.httpStatusCode).toBe(400)
    expect(err.message).toBe('The provided model identifier is invalid.')
  })

  test('a bad gateway key raises UnrecognizedClientException (401) and nothing goes upstream', async () => {
    const before = upstream.received.length
    const err = await client('tg-wrong-key-000000000000000000000000000000')
      .send(new ConverseCommand({ modelId: 'us.amazon.nova-micro-v1:0', messages: [{ role: 'user', content: [{ text: 'hi' }] }] }))
      .catch((e) => e)
    expect(err.name).toBe('UnrecognizedClientException')
    expect(err.$metadata.httpStatusCode).toBe(401)
    expect(err.message).toContain('gateway key')
    expect(upstream.received.length).toBe(before)
  })

  test('a body that is not JSON raises ValidationException (400)', async () => {
    const before = upstream.received.length
    const err = await client()
      .send(new InvokeModelCommand({ modelId: 'us.amazon.nova-micro-v1:0', contentType: 'application/json', body: '{"messages": [' }))
      .catch((e) => e)
    expect(err).toBeInstanceOf(ValidationException)
    expect(err.name).toBe('ValidationException')
    expect(err.$metadata.httpStatusCode).toBe(400)
    expect(upstream.received.length).toBe(before)
  })

  test('an unknown route still answers the AWS SDK in its shape (recognised by its headers)', async () => {
    const c = new BedrockRuntimeClient({
      region: 'us-east-1',
      endpoint: `${gateway.url}/no-such-route`,
      token: { token: CANARY.gatewayKey },
      authSchemePreference: ['httpBearerAuth'],
      requestHandler: new NodeHttpHandler(),
      maxAttempts: 1,
    })
    const err = await c.send(new ConverseCommand({ modelId: 'us.amazon.nova-micro-v1:0', messages: [{ role: 'user', content: [{ text: 'hi' }] }] })).catch((e) => e)
    expect(err).toBeInstanceOf(ResourceNotFoundException)
    expect(err.$metadata.httpStatusCode).toBe(404)
  })

  test('an unknown Bedrock operation is ResourceNotFoundException (404)', async () => {
    const res = await fetch(`${gateway.url}/bedrock/model/x/unknown-op`, { method: 'POST', headers: { authorization: `Bearer ${CANARY.gatewayKey}` }, body: '{}' })
    expect(res.status).toBe(404)
    expect(res.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException')
    expect(Object.keys((await res.json()) as object)).toEqual(['message'])
  })
})
