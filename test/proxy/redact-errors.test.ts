/**
 * An upstream error that echoes its credential (`bad key Bearer sk-…`) reaches the client
 * redacted, on the OpenAI, Gemini, Anthropic and Bedrock routes, through failover too; the AWS
 * secret access key and session token and JSON-escaped spellings are redacted as well. 2xx
 * bodies stay byte for byte, even when they hold the same text.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import OpenAI from 'openai'
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
let mode: 'error' | 'fail500' | 'ok' | 'sse' = 'error'

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
