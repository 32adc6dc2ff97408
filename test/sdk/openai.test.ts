/** The official openai SDK, pointed at the gateway, against replayed OpenAI recordings. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'
import { sseJson } from '../support/sse'

let upstream: ReplayUpstream
let gateway: TestGateway
let client: OpenAI

beforeAll(async () => {
  upstream = startReplayUpstream([])
  gateway = await startGateway(basicConfig(`[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${upstream.url}/v1"\napi_key = "${CANARY.openaiKey}"`))
  client = new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/openai`, maxRetries: 0 })
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop()
})

async function use(folder: string, name: string) {
  const c = await loadCassette(folder, name)
  upstream.use(c.interactions)
  return c.interactions
}

describe('openai SDK through the gateway', () => {
  test('chat completion equals the recording', async () => {
    const [x] = await use('openai', 'test_max_completion_tokens[gpt-4o-mini]')
    const got = await client.chat.completions.create(x!.requestBody as OpenAI.ChatCompletionCreateParamsNonStreaming)
    expect(got).toEqual(x!.responseJson as OpenAI.ChatCompletion)
  })

  test('chat stream yields the recorded chunks, with usage', async () => {
    const xs = await use('openai', 'test_run_stream_sync_streams_real_model')
    const x = xs.find((i) => i.contentType.includes('event-stream'))!
    const stream = await client.chat.completions.create(x.requestBody as OpenAI.ChatCompletionCreateParamsStreaming)
    const chunks: unknown[] = []
    for await (const c of stream) chunks.push(c)
    expect(chunks).toEqual(sseJson(x.responseBody))
    expect(chunks.some((c) => (c as { usage?: unknown }).usage)).toBe(true)
  })

  test('responses API equals the recording', async () => {
    const [x] = await use('openai_responses', 'test_openai_responses_model_simple_response_with_tool_call')
    const got = await client.responses.create(x!.requestBody as OpenAI.Responses.ResponseCreateParamsNonStreaming)
    // The SDK adds its `output_text` convenience field; everything else is the provider's.
    const { output_text: _, ...rest } = got as unknown as Record<string, unknown>
    expect(rest).toEqual(x!.responseJson as Record<string, unknown>)
  })

  test('responses stream yields the recorded events', async () => {
    const xs = await use('openai_responses', 'test_openai_responses_stream')
    const x = xs.find((i) => i.contentType.includes('event-stream'))!
    const stream = await client.responses.create(x.requestBody as OpenAI.Responses.ResponseCreateParamsStreaming)
    const events: unknown[] = []
    for await (const e of stream) events.push(e)
    expect(events).toEqual(sseJson(x.responseBody))
  })

  test('responses input_tokens and a GET by id pass through', async () => {
    const xs = await use('openai_responses', 'test_responses_count_tokens')
    const x = xs.find((i) => i.path.endsWith('/input_tokens'))!
    const got = await client.post('/responses/input_tokens', { body: x.requestBody })
    expect(got).toEqual(x.responseJson)
  })

  test('a recorded upstream error reaches the SDK as the same typed error', async () => {
    const [x] = await use('openai_responses', 'test_openai_responses_model_http_error')
    const err = await client.responses.create(x!.requestBody as OpenAI.Responses.ResponseCreateParamsNonStreaming).catch((e) => e)
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect(err.status).toBe(x!.status)
    expect(err.error).toEqual((x!.responseJson as { error: unknown }).error)
  })
})

describe('openai embeddings', () => {
  // No embeddings exchange exists in the recordings, so this upstream answers in the
  // documented embeddings shape; it checks the route, the body and the usage log.
  test('embeddings go through and their usage is logged', async () => {
    let seen: unknown
    const stub = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      async fetch(req) {
        seen = await req.json()
        return Response.json({
          object: 'list',
          data: [{ object: 'embedding', index: 0, embedding: [0.0023, -0.0091, 0.0152] }],
          model: 'text-embedding-3-small',
          usage: { prompt_tokens: 5, total_tokens: 5 },
        })
      },
    })
    const gw = await startGateway(basicConfig(`[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "http://127.0.0.1:${stub.port}/v1"\napi_key = "${CANARY.openaiKey}"`))
    try {
      const c = new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${gw.url}/openai`, maxRetries: 0 })
      const got = await c.embeddings.create({ model: 'text-embedding-3-small', input: 'hello world', encoding_format: 'float' })
      expect(got.data[0]!.embedding).toEqual([0.0023, -0.0091, 0.0152])
      expect(seen).toEqual({ model: 'text-embedding-3-small', input: 'hello world', encoding_format: 'float' })
      await gw.gw.requestLog.flush()
      const rows = await gw.gw.database.client.execute('SELECT path, model, input_tokens, output_tokens, status FROM request_log')
      expect(rows.rows.map((r) => ({ ...r }) as Record<string, unknown>)).toEqual([{ path: '/openai/embeddings', model: 'text-embedding-3-small', input_tokens: 5, output_tokens: 0, status: 200 }])
    } finally {
      await gw.stop()
      stub.stop(true)
    }
  })
})
