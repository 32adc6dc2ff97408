// The stream buffer budget is fair between keys: one key's slow raw-socket readers, opened in a
// burst, buffer past server.stream_buffer_budget_bytes; that key's next request gets a native 503
// with retry-after before anything goes upstream, while another key is still served (and may
// buffer up to its share). Once the slow clients leave, every count is back to zero.
import { afterAll, expect, test } from 'bun:test'
import type { Socket } from 'node:net'
import OpenAI from 'openai'
import { basicConfig, CANARY, startGateway, type TestGateway } from '../support/gateway'
import { slowSocket, untilSteady, type SlowSocket } from '../support/slow-socket'

const KEY_B = 'tg-test-CANARY-gateway-key-0000000000000002'
const BODY = 24 * 1024 * 1024
const PER_STREAM = 256 * 1024
const BUDGET = 1024 * 1024
const enc = new TextEncoder()
const event = enc.encode(`data: {"x":"${'x'.repeat(16 * 1024 - 16)}"}\n\n`)
const done = enc.encode('data: [DONE]\n\n')
let calls = 0
const upstream = Bun.serve({ port: 0, hostname: '127.0.0.1', idleTimeout: 0, async fetch(req) {
  calls++
  // A short stream for "small" requests, 24 MB for the slow readers.
  let left = (await req.text()).includes('"small"') ? event.length : BODY
  return new Response(new ReadableStream({ type: 'bytes', pull(c) {
    if (left <= 0) {
      c.enqueue(done.slice())
      return c.close()
    }
    left -= event.length
    c.enqueue(event.slice())
  } }, { highWaterMark: 0 }), { headers: { 'content-type': 'text/event-stream' } })
} })
let gateway: TestGateway | undefined
const sockets: Socket[] = []
afterAll(async () => {
  for (const s of sockets) s.destroy()
  await gateway?.stop()
  upstream.stop(true)
})

/** A slow raw-socket stream of `key`: reads its head, then stops reading. */
function slowStream(port: number, key: string): SlowSocket {
  const body = '{"model":"gpt-4o-mini","stream":true,"messages":[]}'
  const c = slowSocket(port, `POST /openai/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`)
  sockets.push(c.socket)
  return c
}

test("one key's slow streams past the buffer budget: that key gets a native 503, another key is still served", async () => {
  gateway = await startGateway(
    `[server]\nstream_buffer_bytes = ${PER_STREAM}\nstream_buffer_budget_bytes = ${BUDGET}\n` +
      basicConfig(
        `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "http://127.0.0.1:${upstream.port}/v1"\napi_key = "${CANARY.openaiKey}"\n`,
        `[[keys]]\nid = "b"\nproject = "default"\nkey = "${KEY_B}"\n`,
      ),
  )
  const port = Number(new URL(gateway.url).port)
  const admission = gateway.gw.proxy.admission
  // Key A: a burst of slow streams, admitted before any of them filled its buffer.
  const a = Array.from({ length: 24 }, () => slowStream(port, CANARY.gatewayKey))
  await untilSteady(() => admission.buffers.bytes, BUDGET)
  expect(a.every((s) => s.status() === 200)).toBe(true)
  // Past the whole budget (each stream within its own bound).
  expect(admission.buffers.bytes).toBeGreaterThan(BUDGET)
  expect(admission.buffers.bytes).toBeLessThanOrEqual(a.length * PER_STREAM)

  const before = calls
  const openaiA = new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/openai`, maxRetries: 0 })
  const refused = await openaiA.chat.completions.create({ model: 'small', stream: true, messages: [] }).then(() => undefined, (e) => e as InstanceType<typeof OpenAI.APIError>)
  expect(refused?.status).toBe(503)
  expect((refused?.error as { code?: string }).code).toBe('gateway_overloaded')
  expect((refused?.error as { message?: string }).message).toContain('memory budget')
  expect(refused?.headers?.get('retry-after')).toBe('1')
  expect(calls).toBe(before)

  // Key B is served: a whole stream, and slow streams of its own up to its share of the budget.
  const openaiB = new OpenAI({ apiKey: KEY_B, baseURL: `${gateway.url}/openai`, maxRetries: 0 })
  const served = await openaiB.chat.completions.create({ model: 'small', stream: true, messages: [] })
  let chunks = 0
  for await (const _ of served) chunks++
  expect(chunks).toBe(1)
  expect(calls).toBe(before + 1)
  const b = slowStream(port, KEY_B)
  for (let i = 0; i < 100 && !b.status(); i++) await Bun.sleep(50)
  expect(b.status()).toBe(200)

  // Once key A's clients go away, every count is back to zero and key A is served again.
  for (const s of a) s.socket.destroy()
  b.socket.destroy()
  await Promise.all([...a, b].map((s) => s.closed))
  for (let i = 0; i < 40 && (admission.inflight || admission.buffers.bytes); i++) await Bun.sleep(50)
  expect(admission.buffers.bytes).toBe(0)
  expect(admission.inflight).toBe(0)
  const again = await openaiA.chat.completions.create({ model: 'small', stream: true, messages: [] })
  for await (const _ of again) void _
}, 60_000)
