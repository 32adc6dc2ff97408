/**
 * An upstream error that echoes its credential (`bad key Bearer sk-…`) reaches the client
 * redacted, on the OpenAI, Gemini, Anthropic and Bedrock routes, through failover too; the AWS
 * secret access key and session token and JSON-escaped spellings are redacted as well. 2xx
 * bodies stay byte for byte, even when they hold the same text.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { CANARY, startGateway, type TestGateway } from '../support/gateway'

const GEMINI_KEY = 'AIzaTEST-CANARY-gemini-000000000000000001'
const BEDROCK_KEY = 'bedrock-api-key-CANARY-00000000000000001'
const AWS_SECRET = 'awsSecretCANARY/0000000000000000000000001'
const AWS_SESSION = 'awsSessionTokenCANARY//000000000000000000001'
const SECRETS = [CANARY.openaiKey, CANARY.anthropicKey, GEMINI_KEY, BEDROCK_KEY, AWS_SECRET, AWS_SESSION]

let upstream: ReturnType<typeof Bun.serve>
let gateway: TestGateway
let okBody = ''
/** A 2xx stream: an ordinary event that mentions the key (left alone), then error events that echo it. */
/** What the stub upstream answers: an error (401 or 500), a 2xx JSON body, or a 2xx stream with error events. */
let mode: 'error' | 'fail500' | 'ok' | 'sse' | 'chunks' = 'error'
/** `chunks`: the body, each piece its own network write, with this status and content type. */
let chunks: { status: number; type: string; parts: string[] } = { status: 200, type: 'text/event-stream', parts: [] }

const sseChunks = (sent: string) => [
  `data: {"choices":[{"delta":{"content":"quoting ${CANARY.openaiKey} is an error"}}]}\n\n`,
  `data: {"error":{"message":"bad key ${sent}","type":"server_error"}}\n\n`,
  `event: error\ndata: {"type":"error","error":{"type":"api_error","message":"bad key ${sent}"}}\n\n`,
]

beforeAll(async () => {
  upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(req) {
      const url = new URL(req.url)
      const sent = ['authorization', 'x-api-key', 'x-goog-api-key', 'x-amz-security-token'].map((h) => req.headers.get(h)).filter(Boolean)
      const bare = sent.map((v) => v!.replace(/^Bearer /, ''))
      if (mode === 'ok') return new Response(okBody, { headers: { 'content-type': 'application/json' } })
      if (mode === 'chunks') {
        const parts = [...chunks.parts]
        return new Response(
          new ReadableStream({
            async pull(c) {
              const next = parts.shift()
              if (next === undefined) return c.close()
              c.enqueue(new TextEncoder().encode(next))
              // Apart in time, so each piece reaches the gateway as its own network chunk.
              await Bun.sleep(4)
            },
          }),
          { status: chunks.status, headers: { 'content-type': chunks.type } },
        )
      }
      if (mode === 'sse') {
        const chunks = sseChunks(sent.join(' '))
        return new Response(
          new ReadableStream({
            async pull(c) {
              const next = chunks.shift()
              if (next === undefined) return c.close()
              await Bun.sleep(5)
              c.enqueue(new TextEncoder().encode(next))
            },
          }),
          { headers: { 'content-type': 'text/event-stream' } },
        )
      }
      // Only the SigV4 provider's upstream has seen its AWS secrets (the test echoes them to prove they are caught).
      const aws = req.headers.has('x-amz-security-token') ? ` aws ${AWS_SECRET} ${JSON.stringify({ s: AWS_SESSION }).replaceAll('/', '\\/')}` : ''
      const message = `bad key ${sent.join(' ')} raw ${bare.join(' ')}${aws}`
      const status = mode === 'fail500' ? 500 : 401
      return Response.json({ error: { message, type: 'invalid_request_error' }, message }, { status })
    },
  })
  const u = `http://127.0.0.1:${upstream.port}`
  gateway = await startGateway(`
[[providers]]
id = "openai"
api = "openai"
base_url = "${u}/v1"
api_key = "${CANARY.openaiKey}"

[[providers]]
id = "openai-b"
api = "openai"
base_url = "${u}/v1"
api_key = "${CANARY.openaiKey}-b"

[[providers]]
id = "anthropic"
api = "anthropic"
base_url = "${u}"
api_key = "${CANARY.anthropicKey}"

[[providers]]
id = "gemini"
api = "gemini"
base_url = "${u}"
api_key = "${GEMINI_KEY}"

[[providers]]
id = "bedrock"
api = "bedrock"
region = "us-east-1"
base_url = "${u}"
api_key = "${BEDROCK_KEY}"

[[providers]]
id = "bedrock-sigv4"
api = "bedrock"
region = "us-east-1"
base_url = "${u}"
access_key_id = "AKIAIOSFODNN7EXAMPLE"
secret_access_key = "${AWS_SECRET}"
session_token = "${AWS_SESSION}"

[[routes]]
name = "both"
targets = [{ provider = "openai", priority = 2 }, { provider = "openai-b", priority = 1 }]

[[projects]]
id = "default"

[[keys]]
id = "main"
project = "default"
key = "${CANARY.gatewayKey}"

[pricing]
unknown_model = "allow"
`)
})

afterAll(async () => {
  await gateway.stop()
  upstream.stop(true)
})

const auth = { authorization: `Bearer ${CANARY.gatewayKey}`, 'content-type': 'application/json' }

function expectClean(text: string) {
  for (const s of [...SECRETS, `${CANARY.openaiKey}-b`, AWS_SESSION.replaceAll('/', '\\/')]) expect(text).not.toContain(s)
  expect(text).toContain('[REDACTED]')
}

test('an upstream 401 echoing its key is redacted on the OpenAI, Anthropic, Gemini and Bedrock routes', async () => {
  const cases: [string, string][] = [
    ['/openai/chat/completions', JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })],
    ['/anthropic/v1/messages', JSON.stringify({ model: 'claude-3-5-haiku-latest', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })],
    ['/gemini/v1beta/models/gemini-2.0-flash:generateContent', JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] })],
    ['/bedrock/model/amazon.nova-micro-v1%3A0/converse', JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] })],
    ['/bedrock-sigv4/model/amazon.nova-micro-v1%3A0/converse', JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] })],
  ]
  for (const [path, body] of cases) {
    const r = await fetch(gateway.url + path, { method: 'POST', headers: auth, body })
    expect([path, r.status]).toEqual([path, 401])
    const text = await r.text()
    expect(text).toContain(path.includes('sigv4') ? ' aws ' : 'bad key')
    expectClean(text)
  }
})

test('the OpenAI SDK sees the redacted message', async () => {
  const c = new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/openai`, maxRetries: 0 })
  const err = await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
  expect(err).toBeInstanceOf(OpenAI.AuthenticationError)
  expectClean(err.message)
})

test('the last answer after failover is redacted too', async () => {
  mode = 'fail500'
  const r = await fetch(`${gateway.url}/both/chat/completions`, { method: 'POST', headers: auth, body: '{"model":"gpt-4o-mini","messages":[]}' })
  expect(r.status).toBe(500)
  expectClean(await r.text())
})

test('2xx bodies stay byte for byte', async () => {
  okBody = JSON.stringify({ id: 'x', object: 'list', data: [], note: `Bearer ${CANARY.openaiKey} ${CANARY.openaiKey}` })
  mode = 'ok'
  const r = await fetch(`${gateway.url}/openai/models`, { headers: auth })
  expect(r.status).toBe(200)
  expect(await r.text()).toBe(okBody)
})

test('error events inside a 2xx stream are redacted; the other events stay byte for byte', async () => {
  mode = 'sse'
  const r = await fetch(`${gateway.url}/openai/chat/completions`, { method: 'POST', headers: auth, body: '{"model":"gpt-4o-mini","messages":[],"stream":true}' })
  expect(r.status).toBe(200)
  const text = await r.text()
  const [first, ...rest] = text.split('\n\n')
  expect(first + '\n\n').toBe(sseChunks('')[0]!)
  const errors = rest.join('\n\n')
  expect(errors).toContain('bad key [REDACTED]')
  expect(errors).not.toContain(CANARY.openaiKey)
})

/** Every offset inside the key's first occurrence in `event`: the event cut there into two writes. */
function cutsInside(event: string, key: string): [string, string][] {
  const at = event.indexOf(key)
  const out: [string, string][] = []
  for (let i = at + 1; i < at + key.length; i++) out.push([event.slice(0, i), event.slice(i)])
  return out
}

test('OpenAI SDK: an error event cut into two writes inside the provider key, at every offset, arrives redacted', async () => {
  const normal = `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n`
  const error = `data: {"error":{"message":"bad key Bearer ${CANARY.openaiKey}","type":"server_error","param":null,"code":null}}\n\n`
  const c = new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/openai`, maxRetries: 0 })
  mode = 'chunks'
  for (const [a, b] of cutsInside(error, CANARY.openaiKey)) {
    chunks = { status: 200, type: 'text/event-stream', parts: [normal, a, b] }
    const stream = await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true })
    const got: string[] = []
    const err = await (async () => {
      for await (const ev of stream) got.push(ev.choices[0]?.delta?.content ?? '')
    })().catch((e) => e)
    expect(got).toEqual(['Hi'])
    expect(err).toBeInstanceOf(OpenAI.APIError)
    expect(err.message).toContain('bad key [REDACTED]')
    expect(err.message).not.toContain(CANARY.openaiKey)
  }
})

test('Anthropic SDK: an `event: error` cut inside the provider key, at every offset, arrives redacted; the events before byte for byte', async () => {
  const start = `event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-3-5-haiku-latest","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}\n\n`
  const error = `event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"bad key ${CANARY.anthropicKey}"}}\n\n`
  const c = new Anthropic({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/anthropic`, maxRetries: 0 })
  mode = 'chunks'
  for (const [a, b] of cutsInside(error, CANARY.anthropicKey)) {
    chunks = { status: 200, type: 'text/event-stream', parts: [start, a, b] }
    const stream = await c.messages.create({ model: 'claude-3-5-haiku-latest', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }], stream: true })
    const types: string[] = []
    const err = await (async () => {
      for await (const ev of stream) types.push(ev.type)
    })().catch((e) => e)
    expect(types).toEqual(['message_start'])
    expect(err).toBeInstanceOf(Anthropic.APIError)
    expect(err.message).toContain('[REDACTED]')
    expect(err.message).not.toContain(CANARY.anthropicKey)
  }
  // On the wire: the first event exactly as sent, the error event redacted whole.
  const [a, b] = cutsInside(error, CANARY.anthropicKey)[10]!
  chunks = { status: 200, type: 'text/event-stream', parts: [start, a, b] }
  const r = await fetch(`${gateway.url}/anthropic/v1/messages`, { method: 'POST', headers: auth, body: '{"model":"claude-3-5-haiku-latest","max_tokens":5,"messages":[],"stream":true}' })
  expect(await r.text()).toBe(start + error.replace(CANARY.anthropicKey, '[REDACTED]'))
})

test('a non-2xx body cut into two writes inside the key is redacted too', async () => {
  const body = JSON.stringify({ error: { message: `Incorrect API key provided: ${CANARY.openaiKey}`, type: 'invalid_request_error' } })
  mode = 'chunks'
  for (const [a, b] of cutsInside(body, CANARY.openaiKey).filter((_, i) => i % 7 === 0)) {
    chunks = { status: 401, type: 'application/json', parts: [a, b] }
    const r = await fetch(`${gateway.url}/openai/chat/completions`, { method: 'POST', headers: auth, body: '{"model":"gpt-4o-mini","messages":[]}' })
    expect(r.status).toBe(401)
    expect(await r.text()).toBe(body.replace(CANARY.openaiKey, '[REDACTED]'))
  }
})
