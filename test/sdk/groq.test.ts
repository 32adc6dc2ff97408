/** The official groq-sdk, pointed at the gateway, against replayed Groq recordings. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import Groq from 'groq-sdk'
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionCreateParamsStreaming } from 'groq-sdk/resources/chat/completions'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'
import { sseJson } from '../support/sse'

let upstream: ReplayUpstream
let gateway: TestGateway
let client: Groq

beforeAll(async () => {
  upstream = startReplayUpstream([])
  gateway = await startGateway(basicConfig(`[[providers]]\nid = "groq"\napi = "groq"\nbase_url = "${upstream.url}"\napi_key = "${CANARY.groqKey}"`))
  client = new Groq({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/groq`, maxRetries: 0 })
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop()
})

test('chat completion equals the recording', async () => {
  const c = await loadCassette('groq', 'test_groq_model_instructions')
  upstream.use(c.interactions)
  const x = c.interactions[0]!
  const got = await client.chat.completions.create(x.requestBody as ChatCompletionCreateParamsNonStreaming)
  expect(got as unknown).toEqual(x.responseJson)
  expect(upstream.received.at(-1)!.pathAndQuery).toBe('/openai/v1/chat/completions')
})

test('a stream yields the recorded chunks, usage in x_groq, and is logged', async () => {
  const c = await loadCassette('groq', 'test_tool_use_failed_error_streaming_with_text')
  upstream.use(c.interactions)
  // The second exchange of this recording is the stream that completes with usage.
  const x = c.interactions.find((i) => i.contentType.includes('event-stream') && new TextDecoder().decode(i.responseBody).includes('"usage"'))!
  const stream = await client.chat.completions.create(x.requestBody as ChatCompletionCreateParamsStreaming)
  const chunks: unknown[] = []
  for await (const ch of stream) chunks.push(ch)
  expect(chunks).toEqual(sseJson(x.responseBody))
  await gateway.gw.requestLog.flush()
  const r = await gateway.gw.database.client.execute("SELECT input_tokens, output_tokens, stream FROM request_log WHERE provider = 'groq' AND stream = 1")
  expect({ ...r.rows.at(-1) }).toEqual({ input_tokens: 343, output_tokens: 180, stream: 1 })
})

test('an error event inside a recorded stream reaches the SDK as its APIError', async () => {
  const c = await loadCassette('groq', 'test_tool_use_failed_error_streaming_with_text')
  upstream.use(c.interactions)
  const x = c.interactions.find((i) => new TextDecoder().decode(i.responseBody).includes('"error"'))!
  const recorded = sseJson(x.responseBody)
  const stream = await client.chat.completions.create(x.requestBody as ChatCompletionCreateParamsStreaming)
  const chunks: unknown[] = []
  const err = await (async () => {
    for await (const ch of stream) chunks.push(ch)
  })().catch((e) => e)
  expect(err).toBeInstanceOf(Groq.APIError)
  expect(err.error).toEqual((recorded.at(-1) as { error: unknown }).error)
  expect(chunks).toEqual(recorded.slice(0, -1))
})

test('a recorded 400 reaches the SDK as BadRequestError with the provider body', async () => {
  const c = await loadCassette('groq', 'test_tool_use_failed_error')
  upstream.use(c.interactions)
  const x = c.interactions.find((i) => i.status === 400)!
  const err = await client.chat.completions.create(x.requestBody as ChatCompletionCreateParamsNonStreaming).catch((e) => e)
  expect(err).toBeInstanceOf(Groq.BadRequestError)
  expect(err.error).toEqual(x.responseJson)
})
