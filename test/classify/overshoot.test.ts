/**
 * The overshoot race of issue 14 §3: 40 concurrent requests that pull in context the body does
 * not carry (previous_response_id, file ids, file_search, Anthropic file documents, Gemini
 * fileData and cachedContent, Vertex cachedContent, Bedrock S3 documents), on a $0.01 daily key limit, against an upstream that reports
 * large usage. Each reserves the model's whole context window, so spend stays within the limit
 * plus one request's cost, on every one of 20 repetitions. Official SDKs as clients.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import { GoogleGenAI } from '@google/genai'
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import OpenAI from 'openai'
import { scopeKey } from '../../src/spend/budget'
import { startGateway, type TestGateway } from '../support/gateway'
import { startOAuthServer, type OAuthServer } from '../support/oauth-server'
import { SA_ENV, vertexToml } from '../google/support'

const REPS = 20
const CONCURRENT = 40
const LIMIT_USD = 0.01

/** Input tokens the upstream reports: large, yet within each model's context window. */
const REPORTED: Record<string, number> = {
  'gpt-4o-mini': 100_000,
  'claude-3-5-haiku-latest': 150_000,
  'gemini-2.0-flash': 500_000,
  'amazon.nova-lite-v1:0': 250_000,
  // Priced in config with a 4,000-token window (or none, and unseen_context_tokens = 4,000): two fit the limit at once.
  'house-window': 3_900,
  'house-nowindow': 3_900,
}
const OUTPUT = 20

type Send = (key: string, model: string) => Promise<unknown>

interface Scenario {
  name: string
  model: string
  send: Send
}

let upstream: ReturnType<typeof Bun.serve>
let gw: TestGateway
let calls = 0
let oauth: OAuthServer

const openai = (key: string) => new OpenAI({ apiKey: key, baseURL: `${gw.url}/openai`, maxRetries: 0 })
const anthropic = (key: string) => new Anthropic({ apiKey: key, baseURL: `${gw.url}/anthropic`, maxRetries: 0 })
const gemini = (key: string) => new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: `${gw.url}/gemini`, apiVersion: 'v1beta' } })

const vertex = (key: string) => new GoogleGenAI({ vertexai: true, apiKey: key, httpOptions: { baseUrl: `${gw.url}/google-vertex` } })
const bedrock = (key: string) =>
  new BedrockRuntimeClient({ region: 'us-east-1', endpoint: `${gw.url}/bedrock`, token: { token: key }, authSchemePreference: ['httpBearerAuth'], requestHandler: new NodeHttpHandler(), maxAttempts: 1 })

const fileInput = [{ role: 'user' as const, content: [{ type: 'input_file' as const, file_id: 'file-abc' }, { type: 'input_text' as const, text: 'Summarise.' }] }]

const SCENARIOS: Scenario[] = [
  { name: 'Responses with previous_response_id', model: 'gpt-4o-mini', send: (k, model) => openai(k).responses.create({ model, previous_response_id: 'resp_1', input: 'And then?', max_output_tokens: OUTPUT }) },
  { name: 'Responses with an input_file file_id', model: 'gpt-4o-mini', send: (k, model) => openai(k).responses.create({ model, input: fileInput, max_output_tokens: OUTPUT }) },
  {
    name: 'Responses with file_search over a vector store',
    model: 'gpt-4o-mini',
    send: (k, model) => openai(k).responses.create({ model, input: 'What does the handbook say?', tools: [{ type: 'file_search', vector_store_ids: ['vs_1'] }], max_output_tokens: OUTPUT }),
  },
  {
    name: 'chat completion with a file part',
    model: 'gpt-4o-mini',
    send: (k, model) => openai(k).chat.completions.create({ model, max_completion_tokens: OUTPUT, messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-abc' } }, { type: 'text', text: 'Summarise.' }] }] }),
  },
  {
    name: 'Anthropic document with a file source',
    model: 'claude-3-5-haiku-latest',
    send: (k, model) =>
      anthropic(k).messages.create({ model, max_tokens: OUTPUT, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'file', file_id: 'file_011' } }, { type: 'text', text: 'Summarise.' }] }] } as never),
  },
  {
    name: 'Gemini fileData',
    model: 'gemini-2.0-flash',
    send: (k, model) =>
      gemini(k).models.generateContent({ model, contents: [{ role: 'user', parts: [{ fileData: { fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/abc', mimeType: 'application/pdf' } }, { text: 'Summarise.' }] }], config: { maxOutputTokens: OUTPUT } }),
  },
  { name: 'Gemini cachedContent', model: 'gemini-2.0-flash', send: (k, model) => gemini(k).models.generateContent({ model, contents: 'And then?', config: { cachedContent: 'cachedContents/abc', maxOutputTokens: OUTPUT } }) },
  { name: 'Vertex Gemini cachedContent', model: 'gemini-2.0-flash', send: (k, model) => vertex(k).models.generateContent({ model, contents: 'And then?', config: { cachedContent: 'projects/p/locations/global/cachedContents/abc', maxOutputTokens: OUTPUT } }) },
  {
    name: 'Bedrock converse with an S3 document',
    model: 'amazon.nova-lite-v1:0',
    send: (k, model) =>
      bedrock(k).send(
        new ConverseCommand({
          modelId: model,
          inferenceConfig: { maxTokens: OUTPUT },
          messages: [{ role: 'user', content: [{ document: { name: 'handbook', format: 'pdf', source: { s3Location: { uri: 's3://bucket/handbook.pdf' } } } }, { text: 'Summarise.' }] }],
        }),
      ),
  },
  { name: 'previous_response_id, model priced with a context window', model: 'house-window', send: (k, model) => openai(k).responses.create({ model, previous_response_id: 'resp_1', input: 'And then?', max_output_tokens: OUTPUT }) },
  { name: 'previous_response_id, no context window: unseen_context_tokens', model: 'house-nowindow', send: (k, model) => openai(k).responses.create({ model, previous_response_id: 'resp_1', input: 'And then?', max_output_tokens: OUTPUT }) },
]

const keyOf = (s: number, r: number) => `tg-overshoot-${s}-${r}-0000000000000000`

function answer(path: string, body: Record<string, unknown>): Response {
  const model = typeof body.model === 'string' ? body.model : (/models\/([^:/]+):/.exec(path)?.[1] ?? '')
  const input = REPORTED[model] ?? 10
  if (path.endsWith('/responses')) {
    return Response.json({ id: 'resp_2', object: 'response', model, status: 'completed', output: [], usage: { input_tokens: input, output_tokens: OUTPUT, total_tokens: input + OUTPUT } })
  }
  if (path.endsWith('/chat/completions')) {
    return Response.json({ id: 'c', object: 'chat.completion', created: 1, model, choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: input, completion_tokens: OUTPUT, total_tokens: input + OUTPUT } })
  }
  if (path.endsWith('/converse')) {
    const m = decodeURIComponent(/model\/([^/]+)\//.exec(path)![1]!)
    const n = REPORTED[m] ?? 10
    return Response.json({ output: { message: { role: 'assistant', content: [{ text: 'ok' }] } }, stopReason: 'end_turn', usage: { inputTokens: n, outputTokens: OUTPUT, totalTokens: n + OUTPUT }, metrics: { latencyMs: 1 } })
  }
  if (path.endsWith('/messages')) {
    return Response.json({ id: 'msg_1', type: 'message', role: 'assistant', model, content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', usage: { input_tokens: input, output_tokens: OUTPUT } })
  }
  return Response.json({
    candidates: [{ content: { role: 'model', parts: [{ text: 'ok' }] }, finishReason: 'STOP' }],
    modelVersion: model,
    usageMetadata: { promptTokenCount: input, candidatesTokenCount: OUTPUT, totalTokenCount: input + OUTPUT },
  })
}

beforeAll(async () => {
  upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      calls++
      const body = (await req.json()) as Record<string, unknown>
      // Slow enough that every request of a wave is in flight at once.
      await Bun.sleep(40)
      return answer(new URL(req.url).pathname, body)
    },
  })
  const u = `http://127.0.0.1:${upstream.port}`
  oauth = await startOAuthServer({ project: 'pydantic-ai' })
  // One project: the objects these requests name (resp_1, file-abc) are its own (isolation: test/objects).
  let toml =
    `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${u}/v1"\napi_key = "sk-x"\nisolation = "none"\n` +
    `[[providers]]\nid = "anthropic"\napi = "anthropic"\nbase_url = "${u}"\napi_key = "sk-ant-x"\nisolation = "none"\n` +
    `[[providers]]\nid = "gemini"\napi = "gemini"\nbase_url = "${u}"\napi_key = "g-x"\nisolation = "none"\n` +
    `[[providers]]\nid = "bedrock"\napi = "bedrock"\nbase_url = "${u}"\nregion = "us-east-1"\napi_key = "ABSK-x"\nisolation = "none"\n` +
    `${vertexToml({ baseUrl: u, tokenUrl: oauth.tokenUrl, extra: 'isolation = "none"' })}\n` +
    `[pricing]\nunseen_context_tokens = 4000\n` +
    `[[pricing.models]]\nmodel = "house-window"\ninput_mtok = 1.0\noutput_mtok = 1.0\ncontext_window = 4000\n` +
    `[[pricing.models]]\nmodel = "house-nowindow"\ninput_mtok = 1.0\noutput_mtok = 1.0\n` +
    `[[projects]]\nid = "default"\n`
  for (let s = 0; s < SCENARIOS.length; s++) {
    for (let r = 0; r < REPS; r++) toml += `[[keys]]\nid = "k-${s}-${r}"\nproject = "default"\nkey = "${keyOf(s, r)}"\nlimits = { daily = ${LIMIT_USD} }\n`
  }
  gw = await startGateway(toml, { env: { [SA_ENV]: oauth.accountJson } })
})
afterAll(async () => {
  await gw.stop()
  upstream.stop(true)
  oauth.stop()
})

/** The limit refusal in each client's terms: OpenAI's 429 insufficient_quota, Anthropic's 402 billing_error, Google's 429 RESOURCE_EXHAUSTED. */
const isLimitError = (e: unknown) => /insufficient_quota|billing_error|RESOURCE_EXHAUSTED|ServiceQuotaExceeded/.test(`${String(e)} ${JSON.stringify((e as { error?: unknown }).error ?? '')}`)

/** What one request really costs (the upstream's reported usage, priced as the gateway prices it). */
function oneCost(model: string, pricingProvider: string, provider: string): number {
  const p = gw.gw.spend.pricer.price({ input_tokens: REPORTED[model]!, output_tokens: OUTPUT }, model, pricingProvider, provider, new Date())
  if (!p) throw new Error(`no price for ${model}`)
  return p.nanos
}

const PRICED_AS: Record<string, [string, string]> = {
  'gpt-4o-mini': ['openai', 'openai'],
  'house-window': ['openai', 'openai'],
  'house-nowindow': ['openai', 'openai'],
  'claude-3-5-haiku-latest': ['anthropic', 'anthropic'],
  'gemini-2.0-flash': ['google', 'gemini'],
  'amazon.nova-lite-v1:0': ['aws', 'bedrock'],
}

describe(`${CONCURRENT} concurrent requests with context by reference on a $${LIMIT_USD} daily limit, ${REPS} repetitions`, () => {
  SCENARIOS.forEach((sc, s) => {
    test(sc.name, async () => {
      const [pp, provider] = PRICED_AS[sc.model]!
      const one = oneCost(sc.model, pp, provider)
      const limit = Math.round(LIMIT_USD * 1e9)
      let admittedTotal = 0
      for (let r = 0; r < REPS; r++) {
        const before = calls
        const results = await Promise.allSettled(Array.from({ length: CONCURRENT }, () => sc.send(keyOf(s, r), sc.model)))
        const failed = results.filter((x) => x.status === 'rejected').map((x) => (x as PromiseRejectedResult).reason)
        // Every refusal is the limit, in the client's format; nothing else went wrong.
        for (const e of failed) if (!isLimitError(e)) throw e
        const admitted = results.length - failed.length
        expect(calls - before).toBe(admitted)
        admittedTotal += admitted
        const st = gw.gw.spend.budget.state(scopeKey('key', `k-${s}-${r}`))
        expect(st.inflight).toBe(0)
        expect(st.windows.day.reserved).toBe(0)
        expect(st.windows.day.spent).toBe(admitted * one)
        expect(st.windows.day.spent).toBeLessThanOrEqual(limit + one)
      }
      // Where the window fits the limit twice over, the gateway still serves these requests.
      if (sc.model.startsWith('house-')) expect(admittedTotal).toBeGreaterThanOrEqual(REPS)
    }, 60_000)
  })
})
