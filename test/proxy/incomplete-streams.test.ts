/**
 * A stream is complete only when its format says so. The upstream replays the first events of a
 * real recorded stream, then half an event, an invalid event, or nothing more, and ends its body
 * cleanly. In every format the client (its official SDK) must see an error, the request log must
 * say `upstream_incomplete`, and the ledger must settle it as a cut stream settles: the input plus
 * the output delivered, estimated.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import Groq from 'groq-sdk'
import { GoogleGenAI } from '@google/genai'
import { BedrockRuntimeClient, ConverseStreamCommand, type ConverseStreamCommandInput } from '@aws-sdk/client-bedrock-runtime'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { EventStreamCodec } from '@smithy/eventstream-codec'
import type { RequestRecord } from '../../src/proxy/record'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette, type Interaction } from '../support/recordings'
import { eventually, ledgerRows } from '../spend/helpers'
import { sigv4ProviderToml } from '../providers/bedrock/support'

type Ending = 'half' | 'invalid' | 'none' | 'whole'
const ENDINGS: Ending[] = ['half', 'invalid', 'none']

const enc = new TextEncoder()
const dec = new TextDecoder()
const codec = new EventStreamCodec(
  (b) => dec.decode(b),
  (s) => enc.encode(s),
)

/** The first `n` SSE events of a recorded body (its own separators kept), and the event after them. */
function sseHead(body: Uint8Array, n: number): { head: string; next: string } {
  const text = dec.decode(body)
  const sep = /\r?\n\r?\n/g
  let end = 0
  for (let i = 0; i < n; i++) {
    const m = sep.exec(text)
    if (!m) throw new Error('recording too short')
    end = m.index + m[0].length
  }
  const m = sep.exec(text)
  return { head: text.slice(0, end), next: text.slice(end, m ? m.index : text.length) }
}

function sseBody(rec: Interaction, ending: Ending, events = 3): Uint8Array {
  if (ending === 'whole') return rec.responseBody
  const { head, next } = sseHead(rec.responseBody, events)
  if (ending === 'half') return enc.encode(head + next.slice(0, Math.floor(next.length / 2)))
  if (ending === 'invalid') return enc.encode(`${head}data: {"candidates": [{"content": \n\n`)
  return enc.encode(head)
}

/** The byte offsets where each event-stream frame of a body ends. */
function frameEnds(body: Uint8Array): number[] {
  const ends: number[] = []
  for (let at = 0; at < body.length; ) {
    at += new DataView(body.buffer, body.byteOffset + at).getUint32(0)
    ends.push(at)
  }
  return ends
}

function frameBody(body: Uint8Array, ending: Ending): Uint8Array {
  if (ending === 'whole') return body
  const ends = frameEnds(body)
  const head = body.slice(0, ends[2]!)
  const next = body.slice(ends[2]!, ends[3]!)
  if (ending === 'none') return head
  if (ending === 'half') return Buffer.concat([head, next.subarray(0, Math.floor(next.length / 2))])
  const broken = new Uint8Array(next)
  broken[broken.length - 6]! ^= 0xff // the message CRC no longer matches
  return Buffer.concat([head, broken])
}

/** Anthropic events as InvokeModelWithResponseStream sends them: `chunk` frames with the event JSON in base64. */
function invokeFrames(anthropicSse: string): Uint8Array {
  const frames = [...anthropicSse.matchAll(/^data: (.*)$/gm)].map((m) =>
    codec.encode({
      headers: { ':message-type': { type: 'string', value: 'event' }, ':event-type': { type: 'string', value: 'chunk' }, ':content-type': { type: 'string', value: 'application/json' } },
      body: enc.encode(JSON.stringify({ bytes: Buffer.from(m[1]!).toString('base64') })),
    }),
  )
  return Buffer.concat(frames)
}

let ending: Ending = 'none'
const recs: Record<string, Interaction> = {}
let upstream: ReturnType<typeof Bun.serve>
let gateway: TestGateway
const records: RequestRecord[] = []

const stream = (body: Uint8Array, type = 'text/event-stream') => new Response(body, { headers: { 'content-type': type } })

beforeAll(async () => {
  const first = async (folder: string, name: string, path: string) => (await loadCassette(folder, name)).interactions.find((x) => x.path.endsWith(path))!
  recs.chat = await first('openai', 'test_run_stream_sync_streams_real_model', '/chat/completions')
  recs.responses = await first('openai_responses', 'test_openai_responses_stream', '/responses')
  recs.anthropic = await first('anthropic', 'test_anthropic_mcp_servers_stream', '/v1/messages')
  recs.gemini = await first('google', 'test_google_model_stream', ':streamGenerateContent')
  recs.groq = await first('groq', 'test_tool_use_failed_error_streaming_with_text', '/chat/completions')
  recs.converse = await first('bedrock', 'test_bedrock_model_stream', '/converse-stream')
  upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(req) {
      const path = new URL(req.url).pathname
      if (path === '/v1/chat/completions') return stream(sseBody(recs.chat!, ending))
      if (path === '/v1/responses') return stream(sseBody(recs.responses!, ending))
      if (path === '/v1/messages') return stream(sseBody(recs.anthropic!, ending))
      if (path === '/openai/v1/chat/completions') return stream(sseBody(recs.groq!, ending))
      // The recorded Gemini stream has two events: one before the cut.
      if (path.includes(':streamGenerateContent')) return stream(sseBody(recs.gemini!, ending, 1))
      if (path.endsWith('/converse-stream')) return stream(frameBody(recs.converse!.responseBody, ending), 'application/vnd.amazon.eventstream')
      if (path.endsWith('/invoke-with-response-stream')) {
        const frames = invokeFrames(dec.decode(recs.anthropic!.responseBody))
        return stream(frameBody(frames, ending), 'application/vnd.amazon.eventstream')
      }
      return new Response('not found', { status: 404 })
    },
  })
  const u = `http://127.0.0.1:${upstream.port}`
  const providers = [
    `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${u}/v1"\napi_key = "${CANARY.openaiKey}"`,
    `[[providers]]\nid = "anthropic"\napi = "anthropic"\nbase_url = "${u}"\napi_key = "${CANARY.anthropicKey}"`,
    `[[providers]]\nid = "groq"\napi = "groq"\nbase_url = "${u}"\napi_key = "${CANARY.groqKey}"`,
    `[[providers]]\nid = "gemini"\napi = "gemini"\nbase_url = "${u}"\napi_key = "gemini-test-key"`,
    sigv4ProviderToml(u),
  ].join('\n\n')
  gateway = await startGateway(basicConfig(providers, '[pricing]\nunknown_model = "allow"'), { sinks: [{ record: (r) => void records.push(r) }] })
})

afterAll(async () => {
  await gateway?.stop()
  upstream?.stop(true)
})

/** Consumes a client's stream; returns what it threw (undefined when it ended normally) and how many events came first. */
async function drain(iterable: AsyncIterable<unknown>): Promise<{ error: unknown; events: number }> {
  let events = 0
  try {
    for await (const _ of iterable) events++
    return { error: undefined, events }
  } catch (error) {
    return { error, events }
  }
}

/** The request's record (log) and ledger row, once it has settled. */
async function settled(before: number) {
  await eventually(() => records.length > before)
  const record = records[before]!
  let row: Awaited<ReturnType<typeof ledgerRows>>[number] | undefined
  await eventually(async () => !!(row = (await ledgerRows(gateway)).find((x) => x.requestId === record.id)))
  return { record, row: row! }
}

async function expectIncomplete(run: () => Promise<{ error: unknown; events: number }>, pricedModel: boolean) {
  const before = records.length
  const { error, events } = await run()
  expect(error).toBeDefined()
  expect(events).toBeGreaterThan(0)
  const { record, row } = await settled(before)
  expect(record.status).toBe(200)
  expect(record.error).toBe('upstream_incomplete')
  // Settled as a cut stream settles: estimated from the input and the output delivered, not released.
  expect(row.note).toBe('upstream_incomplete')
  expect(row.estimated).toBe(true)
  if (pricedModel) {
    expect(row.state).toBe('settled')
    expect(row.costNanos).toBeGreaterThan(0)
    expect(record.costNanos).toBe(row.costNanos)
  }
  expect(gateway.gw.spend.budget.state('key:test-key').inflight).toBe(0)
}

const openai = () => new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/openai`, maxRetries: 0 })

for (const e of ENDINGS) {
  describe(`a stream that ends cleanly after ${e === 'none' ? 'no terminal event' : e === 'half' ? 'half an event' : 'an invalid event'}`, () => {
    test('OpenAI chat (openai SDK)', async () => {
      ending = e
      await expectIncomplete(async () => drain(await openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true })), true)
    })

    test('OpenAI Responses (openai SDK)', async () => {
      ending = e
      await expectIncomplete(async () => drain(await openai().responses.create({ model: 'gpt-4o', input: 'hi', stream: true })), true)
    })

    test('Anthropic Messages (@anthropic-ai/sdk)', async () => {
      ending = e
      const client = new Anthropic({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/anthropic`, maxRetries: 0 })
      await expectIncomplete(async () => drain(await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], stream: true })), true)
    })

    test('Groq chat (groq-sdk)', async () => {
      ending = e
      const client = new Groq({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/groq`, maxRetries: 0 })
      await expectIncomplete(async () => drain(await client.chat.completions.create({ model: 'openai/gpt-oss-120b', messages: [{ role: 'user', content: 'hi' }], stream: true })), false)
    })

    test('Gemini streamGenerateContent (@google/genai)', async () => {
      ending = e
      const client = new GoogleGenAI({ apiKey: CANARY.gatewayKey, httpOptions: { baseUrl: `${gateway.url}/gemini`, apiVersion: 'v1beta' } })
      await expectIncomplete(async () => {
        try {
          return await drain(await client.models.generateContentStream({ model: 'gemini-2.0-flash', contents: 'hi' }))
        } catch (error) {
          return { error, events: 1 }
        }
      }, true)
    })

    test('Bedrock ConverseStream (AWS SDK)', async () => {
      ending = e
      const client = new BedrockRuntimeClient({
        region: 'us-east-1',
        endpoint: `${gateway.url}/bedrock`,
        token: { token: CANARY.gatewayKey },
        authSchemePreference: ['httpBearerAuth'],
        requestHandler: new NodeHttpHandler(),
        maxAttempts: 1,
      })
      const body = recs.converse!.requestBody as Omit<ConverseStreamCommandInput, 'modelId'>
      const modelId = decodeURIComponent(recs.converse!.path.split('/')[2]!)
      await expectIncomplete(async () => drain((await client.send(new ConverseStreamCommand({ ...body, modelId }))).stream!), true)
    })

    test('Anthropic format on Bedrock: invoke-with-response-stream re-framed as SSE (@anthropic-ai/sdk)', async () => {
      ending = e
      const client = new Anthropic({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/bedrock`, maxRetries: 0 })
      await expectIncomplete(async () => drain(await client.messages.create({ model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], stream: true })), false)
    })
  })
}

describe('the same recordings replayed whole', () => {
  test('are complete in every format: no error for the client, none in the log', async () => {
    ending = 'whole'
    const before = records.length
    const chat = await drain(await openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true }))
    const responses = await drain(await openai().responses.create({ model: 'gpt-4o', input: 'hi', stream: true }))
    const anthropic = new Anthropic({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/anthropic`, maxRetries: 0 })
    const messages = await drain(await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], stream: true }))
    const google = new GoogleGenAI({ apiKey: CANARY.gatewayKey, httpOptions: { baseUrl: `${gateway.url}/gemini`, apiVersion: 'v1beta' } })
    const gemini = await drain(await google.models.generateContentStream({ model: 'gemini-2.0-flash', contents: 'hi' }))
    for (const r of [chat, responses, messages, gemini]) expect(r.error).toBeUndefined()
    await eventually(() => records.length >= before + 4)
    expect(records.slice(before).map((r) => r.error ?? 'ok')).toEqual(['ok', 'ok', 'ok', 'ok'])
  })
})
