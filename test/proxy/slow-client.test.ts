/**
 * Slow clients, over raw sockets: a body sent a byte every 2 s gets a native 408 once
 * `server.body_timeout_seconds` has passed, the connection is closed, and the upstream is never
 * called. A body that arrives in time is served as usual.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { connect } from 'node:net'
import { CANARY, startGateway, type TestGateway } from '../support/gateway'

let calls = 0
let upstream: ReturnType<typeof Bun.serve>
let gateway: TestGateway

beforeAll(async () => {
  upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch() {
      calls++
      return Response.json({ id: 'x', object: 'chat.completion', choices: [], model: 'gpt-4o-mini' })
    },
  })
  gateway = await startGateway(`
[server]
body_timeout_seconds = 2

[[providers]]
id = "openai"
api = "openai"
base_url = "http://127.0.0.1:${upstream.port}/v1"
api_key = "${CANARY.openaiKey}"

[[providers]]
id = "anthropic"
api = "anthropic"
base_url = "http://127.0.0.1:${upstream.port}"
api_key = "${CANARY.anthropicKey}"

[[projects]]
id = "default"

[[keys]]
id = "main"
project = "default"
key = "${CANARY.gatewayKey}"
`)
})

afterAll(async () => {
  await gateway.stop()
  upstream.stop(true)
})

/** Sends the head, then the body one byte every `everyMs`; resolves with what came back and when the socket closed. */
function slowRequest(path: string, headers: string, body: string, everyMs: number): Promise<{ text: string; closedAfterMs: number }> {
  const port = new URL(gateway.url).port
  return new Promise((resolve) => {
    const t0 = performance.now()
    const sock = connect(Number(port), '127.0.0.1')
    let text = ''
    let i = 0
    let timer: ReturnType<typeof setInterval> | undefined
    sock.on('data', (d) => (text += String(d)))
    sock.on('error', () => {})
    sock.on('close', () => {
      clearInterval(timer)
      resolve({ text, closedAfterMs: performance.now() - t0 })
    })
    sock.write(`POST ${path} HTTP/1.1\r\nHost: x\r\n${headers}content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`)
    timer = setInterval(() => {
      if (i < body.length) sock.write(body[i++]!)
      if (performance.now() - t0 > 20_000) sock.destroy()
    }, everyMs)
  })
}

const BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })

test('a body trickling in a byte every 2 s: native 408, the socket closed, no upstream call', async () => {
  const before = calls
  const r = await slowRequest('/openai/chat/completions', `authorization: Bearer ${CANARY.gatewayKey}\r\n`, BODY, 2000)
  expect(r.text).toStartWith('HTTP/1.1 408')
  expect(r.text.toLowerCase()).toContain('connection: close')
  const json = JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4))
  expect(json.error).toMatchObject({ type: 'invalid_request_error', code: 'request_timeout' })
  // Closed by the gateway soon after the deadline, long before the body or the idle timeout ends.
  expect(r.closedAfterMs).toBeLessThan(8000)
  expect(calls).toBe(before)
})

test("the 408 comes in the route's shape (Anthropic)", async () => {
  const r = await slowRequest('/anthropic/v1/messages', `x-api-key: ${CANARY.gatewayKey}\r\nanthropic-version: 2023-06-01\r\n`, BODY, 2000)
  expect(r.text).toStartWith('HTTP/1.1 408')
  const json = JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4))
  expect(json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
})

test('a body that arrives within the deadline is served', async () => {
  const before = calls
  const r = await slowRequest('/openai/chat/completions', `authorization: Bearer ${CANARY.gatewayKey}\r\nconnection: close\r\n`, '{"model":"gpt-4o-mini","messages":[]}', 1)
  expect(r.text).toStartWith('HTTP/1.1 200')
  expect(calls).toBe(before + 1)
})

test("headers trickling in: Bun's own fixed header timer closes the connection after about 10 s", async () => {
  // Bun.serve (uWebSockets) gives a request head 10 s, bytes arriving or not, whatever idleTimeout is;
  // `server.header_timeout_seconds` documents that value (src/config/schema.ts).
  const port = Number(new URL(gateway.url).port)
  const before = calls
  const r = await new Promise<{ text: string; ms: number }>((resolve) => {
    const t0 = performance.now()
    const sock = connect(port, '127.0.0.1')
    let text = ''
    sock.on('data', (d) => (text += String(d)))
    sock.on('error', () => {})
    const timer = setInterval(() => sock.write('X'), 2000)
    sock.on('close', () => {
      clearInterval(timer)
      resolve({ text, ms: performance.now() - t0 })
    })
    sock.write(`POST /openai/chat/completions HTTP/1.1\r\nHost: x\r\nx-slow: `)
    setTimeout(() => sock.destroy(), 25_000)
  })
  expect(r.ms).toBeGreaterThan(8000)
  expect(r.ms).toBeLessThan(20_000)
  expect(calls).toBe(before)
}, 30_000)
