/**
 * The official `openai` SDK with its base URL at the gateway's `/v1`: chat (JSON with tool calls,
 * streams, streamed tool calls) and embeddings through every route of the issue, each reaching its
 * provider's own OpenAI-compatible endpoint (exact path, credential and body checked upstream),
 * with only `model` changed on the way up and the answer relayed byte for byte on the way down.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { calcPrice } from '@pydantic/genai-prices'
import type { RequestRecord } from '../../src/proxy/record'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { startOAuthServer, type OAuthServer } from '../support/oauth-server'
import { recomputeAuthorization } from '../providers/bedrock/support'
import { loadCassette } from '../support/recordings'
import { SA_ENV, endpoints, providersToml, recordings, startCompatUpstream, type CompatUpstream, type Recorded } from './support'

let up: CompatUpstream
let oauth: OAuthServer
let gateway: TestGateway
let rec: Recorded
let client: OpenAI
const sent: string[] = []
const records: RequestRecord[] = []

beforeAll(async () => {
  rec = await recordings()
  oauth = await startOAuthServer()
  up = startCompatUpstream(endpoints(oauth), rec)
  gateway = await startGateway(basicConfig(providersToml(up.url, oauth)), {
    env: { [SA_ENV]: oauth.accountJson },
    sinks: [{ record: (r: RequestRecord) => void records.push(structuredClone(r)) }],
  })
  client = new OpenAI({
    apiKey: CANARY.gatewayKey,
    baseURL: `${gateway.url}/v1`,
    maxRetries: 0,
    fetch: async (url: string | URL | Request, init?: RequestInit) => {
      if (typeof init?.body === 'string') sent.push(init.body)
      return fetch(url, init)
    },
  })
})
afterAll(async () => {
  await gateway.stop()
  up.stop()
  oauth.stop()
})
beforeEach(() => {
  up.reset()
  sent.length = 0
  records.length = 0
})

/** model asked for → the compat endpoint it must reach, the body's model there, and the provider's own name. */
const ROUTES: { model: string; endpoint: string; body: string; own: string; provider: string; api: string }[] = [
  { model: 'openai:gpt-5', endpoint: 'openai', body: 'gpt-5', own: 'gpt-5', provider: 'openai', api: 'openai' },
  { model: 'anthropic:claude-sonnet-4-5', endpoint: 'anthropic', body: 'claude-sonnet-4-5', own: 'claude-sonnet-4-5', provider: 'anthropic', api: 'anthropic' },
  { model: 'groq:openai/gpt-oss-120b', endpoint: 'groq', body: 'openai/gpt-oss-120b', own: 'openai/gpt-oss-120b', provider: 'groq', api: 'groq' },
  { model: 'gemini:gemini-2.5-flash', endpoint: 'gemini', body: 'gemini-2.5-flash', own: 'gemini-2.5-flash', provider: 'gemini', api: 'gemini' },
  { model: 'vertex:google/gemini-2.5-flash', endpoint: 'vertex', body: 'google/gemini-2.5-flash', own: 'gemini-2.5-flash', provider: 'vertex', api: 'google-vertex' },
  { model: 'vertex:gemini-2.5-flash', endpoint: 'vertex', body: 'google/gemini-2.5-flash', own: 'gemini-2.5-flash', provider: 'vertex', api: 'google-vertex' },
  { model: 'bedrock:openai.gpt-oss-120b-1:0', endpoint: 'bedrock', body: 'openai.gpt-oss-120b-1:0', own: 'openai.gpt-oss-120b-1:0', provider: 'bedrock', api: 'bedrock' },
  { model: 'mantle:openai.gpt-oss-120b', endpoint: 'mantle', body: 'openai.gpt-oss-120b', own: 'openai.gpt-oss-120b', provider: 'mantle', api: 'bedrock' },
  { model: 'claude:claude-sonnet-4-5', endpoint: 'anthropic', body: 'claude-sonnet-4-5', own: 'claude-sonnet-4-5', provider: 'anthropic', api: 'anthropic' },
  { model: 'sonnet', endpoint: 'anthropic', body: 'claude-sonnet-4-5', own: 'claude-sonnet-4-5', provider: 'anthropic', api: 'anthropic' },
  { model: 'fast', endpoint: 'groq', body: 'openai/gpt-oss-120b', own: 'openai/gpt-oss-120b', provider: 'groq', api: 'groq' },
]

const TOOLS: OpenAI.Chat.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_current_time', description: 'Get the current time.', parameters: { type: 'object', properties: {}, additionalProperties: false } } },
]

/** The body the upstream must get: the client's bytes with the model value replaced (and include_usage first for streams). */
function expectedBody(clientBody: string, asked: string, served: string, stream: boolean): string {
  const swapped = clientBody.replace(`"model":${JSON.stringify(asked)}`, `"model":${JSON.stringify(served)}`)
  return stream ? `{"stream_options":{"include_usage":true},${swapped.slice(1)}` : swapped
}

function checkUpstream(r: (typeof ROUTES)[number], stream: boolean): void {
  const eps = endpoints(oauth)
  expect(up.received).toHaveLength(1)
  const got = up.received[0]!
  expect(got.pathAndQuery).toBe(eps[r.endpoint]!.path)
  const auth = got.headers.get('authorization') ?? ''
  const want = eps[r.endpoint]!.auth
  expect(typeof want === 'string' ? auth === want : want(auth)).toBe(true)
  expect(new TextDecoder().decode(got.body)).toBe(expectedBody(sent[0]!, r.model, r.body, stream))
  // The gateway key never goes upstream.
  for (const [, v] of got.headers) expect(v).not.toContain(CANARY.gatewayKey)
}

async function settled(): Promise<RequestRecord> {
  for (let i = 0; i < 100 && !records.length; i++) await Bun.sleep(10)
  expect(records).toHaveLength(1)
  return records[0]!
}

describe('chat through every route', () => {
  for (const r of ROUTES) {
    test(`${r.model}: JSON with a tool call`, async () => {
      const res = await client.chat.completions.create({ model: r.model, messages: [{ role: 'user', content: 'What is the current time?' }], tools: TOOLS, tool_choice: 'auto' })
      checkUpstream(r, false)
      expect(res.choices[0]!.finish_reason).toBe('tool_calls')
      expect((res.choices[0]!.message.tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall).function.name).toBe('get_current_time')
      expect(res.model).toBe(r.body)
      expect(res.usage).toEqual({ completion_tokens: 12, prompt_tokens: 35, total_tokens: 109 })
      const record = await settled()
      expect(record).toMatchObject({ provider: r.provider, api: r.api, model: r.own, status: 200, stream: false })
      expect(record.usage?.tokens).toMatchObject({ input_tokens: 35, output_tokens: 12 })
    })

    test(`${r.model}: stream`, async () => {
      const stream = await client.chat.completions.create({ model: r.model, messages: [{ role: 'user', content: 'What is the capital of the UK?' }], stream: true })
      let text = ''
      let usage: OpenAI.CompletionUsage | undefined | null
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? ''
        if (chunk.usage) usage = chunk.usage
      }
      checkUpstream(r, true)
      expect(text.length).toBeGreaterThan(0)
      expect(usage?.prompt_tokens).toBeGreaterThan(0)
      const record = await settled()
      expect(record).toMatchObject({ provider: r.provider, api: r.api, model: r.own, status: 200, stream: true })
      expect(record.usage?.tokens.input_tokens).toBe(usage!.prompt_tokens)
    })
  }

  test('streamed tool calls arrive whole, on every route', async () => {
    for (const { model, endpoint } of ROUTES) {
      up.reset()
      const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Capital of the UK? Use the tool.' }], tools: TOOLS, stream: true })
      let args = ''
      let name = ''
      for await (const chunk of stream) {
        const call = chunk.choices[0]?.delta.tool_calls?.[0]
        if (call?.function?.name) name = call.function.name
        args += call?.function?.arguments ?? ''
      }
      expect(up.received.map((r) => r.endpoint)).toEqual([endpoint])
      expect(name).toBe('get_capital')
      expect(JSON.parse(args)).toEqual({ country: 'UK' })
    }
  })
})

describe('byte for byte', () => {
  test('the JSON answer is the upstream bytes, with the cost header added', async () => {
    const body = JSON.stringify({ model: 'anthropic:claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] })
    const res = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${CANARY.gatewayKey}`, 'content-type': 'application/json' }, body })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toBe(new TextDecoder().decode(rec.chat.responseBody).replace(/"model":"[^"]*"/g, '"model":"claude-sonnet-4-5"'))
    expect(res.headers.get('x-upstream')).toBe('compat')
    // Priced as the provider that served it: Anthropic's claude-sonnet-4-5, from the OpenAI-format usage.
    const want = calcPrice({ input_tokens: 35, output_tokens: 12 }, 'claude-sonnet-4-5', { providerId: 'anthropic' })!
    expect(Number(res.headers.get('x-tollgate-cost-usd'))).toBeCloseTo(want.total_price, 9)
  })

  test('odd spacing, key order and unicode survive; only the model value changes', async () => {
    const body = ' {\n  "messages" : [ {"role":"user","content":"h\\u00e9 \u00e9 \\"model\\":\\"x\\""} ],\n  "model"  :  "gemini:gemini-2.5-flash", "temperature":0.10 }\n'
    const res = await fetch(`${gateway.url}/proxy/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${CANARY.gatewayKey}`, 'content-type': 'application/json' }, body })
    expect(res.status).toBe(200)
    expect(new TextDecoder().decode(up.received[0]!.body)).toBe(body.replace('"gemini:gemini-2.5-flash"', '"gemini-2.5-flash"'))
  })

  test("Groq's own recorded streams reach the client byte for byte, metered from the usage chunk", async () => {
    const cassette = await loadCassette('groq', 'test_tool_use_failed_error_streaming')
    const send = async (i: number) => {
      const groq = cassette.interactions[i]!
      up.reset()
      records.length = 0
      up.script({ status: 200, body: groq.responseBody, contentType: 'text/event-stream' })
      const body = JSON.stringify({ ...(groq.requestBody as object), model: 'groq:openai/gpt-oss-120b' })
      const res = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${CANARY.gatewayKey}`, 'content-type': 'application/json' }, body })
      expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(groq.responseBody))).toBe(true)
      return settled()
    }
    // Groq's tool_use_failed error event inside a 200 stream passes through as Groq sent it; no usage, nothing billed.
    const failed = await send(0)
    expect(failed).toMatchObject({ provider: 'groq', model: 'openai/gpt-oss-120b', stream: true, status: 200 })
    expect(failed.usage).toBeUndefined()
    const ok = await send(1)
    expect(ok.usage?.tokens.input_tokens).toBeGreaterThan(0)
    const want = calcPrice(ok.usage!.tokens, 'openai/gpt-oss-120b', { providerId: 'groq' })!
    expect(ok.costNanos).toBe(Math.round(want.total_price * 1e9))
  })

  test('SigV4 covers the spliced body (recomputed with the AWS SDK signer)', async () => {
    await client.chat.completions.create({ model: 'bedrock:openai.gpt-oss-120b-1:0', messages: [{ role: 'user', content: 'hi' }] })
    const { got, want } = await recomputeAuthorization(up.received[0]!)
    expect(got).toBe(want)
  })
})

describe('embeddings', () => {
  for (const [model, endpoint, served] of [
    ['openai:text-embedding-3-small', 'openai-embeddings', 'text-embedding-3-small'],
    ['gemini:gemini-embedding-001', 'gemini-embeddings', 'gemini-embedding-001'],
  ] as const) {
    test(model, async () => {
      const res = await client.embeddings.create({ model, input: ['one', 'two'] })
      expect(res.data).toHaveLength(2)
      expect(res.data[0]!.embedding).toHaveLength(3)
      const got = up.received[0]!
      expect(got.pathAndQuery).toBe(endpoints(oauth)[endpoint]!.path)
      expect(new TextDecoder().decode(got.body)).toBe(sent[0]!.replace(`"model":"${model}"`, `"model":"${served}"`))
      const record = await settled()
      expect(record).toMatchObject({ model: served, status: 200 })
      expect(record.usage?.tokens.input_tokens).toBe(16)
    })
  }

  test('a route whose compat endpoint has no embeddings gets an OpenAI-shaped 400', async () => {
    const err = await client.embeddings.create({ model: 'anthropic:claude-sonnet-4-5', input: 'x' }).catch((e) => e)
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect(err.code).toBe('model_not_compatible')
    expect(up.received).toHaveLength(0)
  })
})
