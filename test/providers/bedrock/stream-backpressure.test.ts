// A converted stream (Bedrock event-stream → Anthropic SSE) keeps the relay's backpressure: while
// a raw-socket client does not read, the gateway stops reading the upstream, holding about the
// per-stream bound plus socket buffers, not the body; once the client reads, every event arrives.
// The converter pulls one upstream read per read of its own (highWaterMark 0); an eager one fails this.
import { afterAll, expect, test } from 'bun:test'
import { meteredStream } from '../../../src/proxy/stream'
import { eventStreamToAnthropicSse } from '../../../src/providers/bedrock/anthropic-sse'
import { slowSocket, untilSteady } from '../../support/slow-socket'
import { chunkFrame } from './support'

const EVENTS = 4000
const TEXT = 'y'.repeat(16 * 1024)
const frame = chunkFrame(JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: TEXT } }))
const stop = chunkFrame(JSON.stringify({ type: 'message_stop' }))
const TOTAL = EVENTS * frame.length
let produced = 0
const servers: { stop(force?: boolean): void }[] = []
afterAll(() => servers.forEach((s) => s.stop(true)))

/** EVENTS delta frames (after `head`) and message_stop, produced only as fast as they are read; `count` hears each delta frame's bytes. */
function frameBody(count: (n: number) => void, head?: Uint8Array): ReadableStream<Uint8Array> {
  let sent = 0
  let first = !!head
  return new ReadableStream({ type: 'bytes', pull(c) {
    if (first) {
      first = false
      return c.enqueue(head!.slice())
    }
    if (sent === EVENTS) {
      c.enqueue(stop.slice())
      return c.close()
    }
    sent++
    count(frame.length)
    c.enqueue(frame.slice())
  } }, { highWaterMark: 0 })
}

test('a slow raw-socket reader of a converted stream stops the upstream; every event arrives once it reads', async () => {
  const up = Bun.serve({ port: 0, hostname: '127.0.0.1', idleTimeout: 0, fetch: () => new Response(frameBody((n) => (produced += n))) })
  servers.push(up)
  const buffers = { bytes: 0, perStream: 256 * 1024 }
  let maxBuffered = 0
  const watched = { get bytes() { return buffers.bytes }, set bytes(v) { buffers.bytes = v; maxBuffered = Math.max(maxBuffered, v) }, perStream: buffers.perStream }
  const gw = Bun.serve({ port: 0, hostname: '127.0.0.1', idleTimeout: 0, async fetch() {
    const res = await fetch(`http://127.0.0.1:${up.port}/`)
    const metered = meteredStream(res.body!, { push() {}, end() {} }, { firstByte() {}, end() {} }, new AbortController(), undefined, watched)
    return new Response(eventStreamToAnthropicSse(metered), { headers: { 'content-type': 'text/event-stream' } })
  } })
  servers.push(gw)
  const c = slowSocket(gw.port!, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  await untilSteady(() => produced)
  expect(c.text().length).toBeLessThan(1024 * 1024)
  expect(produced).toBeLessThan(TOTAL / 4)
  expect(maxBuffered).toBeLessThanOrEqual(buffers.perStream)
  c.socket.resume()
  await c.closed
  expect(produced).toBe(TOTAL)
  const text = c.text()
  expect(text.split('event: content_block_delta\n').length - 1).toBe(EVENTS)
  expect(text).toContain('event: message_stop\n')
}, 30_000)

test('through the gateway: a slow raw-socket client of /bedrock/v1/messages holds at most the stream bound; the upstream stops; every event arrives', async () => {
  const { startGateway, basicConfig, CANARY } = await import('../../support/gateway')
  const { apiKeyProviderToml } = await import('./support')
  const start = chunkFrame(JSON.stringify({ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude', content: [], usage: { input_tokens: 3, output_tokens: 1 } } }))
  let made = 0
  const up = Bun.serve({ port: 0, hostname: '127.0.0.1', idleTimeout: 0, async fetch(req) {
    await req.arrayBuffer()
    return new Response(frameBody((n) => (made += n), start), { headers: { 'content-type': 'application/vnd.amazon.eventstream' } })
  } })
  servers.push(up)
  const gateway = await startGateway(`[server]\nstream_buffer_bytes = 262144\n` + basicConfig(apiKeyProviderToml(`http://127.0.0.1:${up.port}`)))
  try {
    const admission = gateway.gw.proxy.admission
    let maxBuffered = 0
    const watch = setInterval(() => (maxBuffered = Math.max(maxBuffered, admission.buffers.bytes)), 5)
    const body = JSON.stringify({ model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'hi' }] })
    const c = slowSocket(Number(new URL(gateway.url).port), `POST /bedrock/v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: ${CANARY.gatewayKey}\r\nanthropic-version: 2023-06-01\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`)
    await untilSteady(() => made)
    expect(c.status()).toBe(200)
    // Socket buffers on both hops (a few MB each on loopback), not the 88 MB body; the relay's queue counted and bounded.
    expect(made).toBeLessThan(TOTAL / 4)
    expect(admission.buffers.bytes).toBeGreaterThan(0)
    expect(maxBuffered).toBeLessThanOrEqual(262144)
    c.socket.resume()
    await c.closed
    clearInterval(watch)
    const text = c.text()
    expect(made).toBe(TOTAL)
    expect(text).toContain('event: message_start\n')
    expect(text.split('event: content_block_delta\n').length - 1).toBe(EVENTS)
    expect(text).toContain('event: message_stop\n')
    expect(admission.buffers.bytes).toBe(0)
  } finally {
    await gateway.stop()
  }
}, 90_000)
