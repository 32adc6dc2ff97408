// server.stream_buffer_budget_bytes: slow raw-socket readers of one key fill the streams' buffers;
// near the budget (90 %) that key's new request gets its client's native 503 gateway_overloaded
// with retry-after (OpenAI and Anthropic shapes), before anything goes upstream; the admitted
// streams still complete.
import { afterAll, expect, test } from 'bun:test'
import { connect, type Socket } from 'node:net'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { basicConfig, CANARY, startGateway, type TestGateway } from '../support/gateway'

const BODY = 24 * 1024 * 1024
const enc = new TextEncoder()
const event = enc.encode(`data: {"x":"${'x'.repeat(16 * 1024 - 16)}"}\n\n`)
const done = enc.encode('data: [DONE]\n\n')
let calls = 0
const upstream = Bun.serve({ port: 0, hostname: '127.0.0.1', idleTimeout: 0, fetch() {
  calls++
  let sent = 0
  return new Response(new ReadableStream({ type: 'bytes', pull(c) {
    if (sent >= BODY) {
      c.enqueue(done.slice())
      return c.close()
    }
    sent += event.length
    c.enqueue(event.slice())
  } }, { highWaterMark: 0 }), { headers: { 'content-type': 'text/event-stream' } })
} })
let gateway: TestGateway | undefined
afterAll(async () => {
  await gateway?.stop()
  upstream.stop(true)
})

/** A raw-socket stream that reads its head, then stops reading until resumed. */
function slowStream(port: number): { s: Socket; text: () => string; closed: Promise<void> } {
  const parts: Buffer[] = []
  const body = '{"model":"gpt-4o-mini","stream":true,"messages":[]}'
  const s = connect({ port, host: '127.0.0.1' }, () =>
    s.write(`POST /openai/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${CANARY.gatewayKey}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`))
  let first = true
  s.on('data', (d: Buffer) => {
    parts.push(d)
    if (first) {
      first = false
      s.pause()
    }
  })
  s.on('error', () => {})
  return { s, text: () => Buffer.concat(parts).toString('latin1'), closed: new Promise((r) => s.on('close', () => r())) }
}

test('slow streams at the buffer budget: new requests get a native 503 with retry-after and never go upstream; the admitted streams complete', async () => {
  gateway = await startGateway(
    `[server]\nstream_buffer_bytes = 524288\nstream_buffer_budget_bytes = 1048576\n` +
      basicConfig(
        `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "http://127.0.0.1:${upstream.port}/v1"\napi_key = "${CANARY.openaiKey}"\n` +
          `[[providers]]\nid = "anthropic"\napi = "anthropic"\nbase_url = "http://127.0.0.1:${upstream.port}"\napi_key = "${CANARY.anthropicKey}"\n`,
      ),
  )
  const port = Number(new URL(gateway.url).port)
  const admission = gateway.gw.proxy.admission
  // Past 90 % of the budget a key holding more than its share (alone: half the budget) is refused.
  const full = () => admission.buffers.bytes + admission.buffers.perStream > admission.bufferBudget * 0.9
  // Open slow streams until their queued bytes leave no room for another stream's buffer (bounded).
  const slow: ReturnType<typeof slowStream>[] = []
  for (let i = 0; i < 12 && !full(); i++) {
    slow.push(slowStream(port))
    let last = -1
    for (let j = 0; j < 30 && !full() && admission.buffers.bytes !== last; j++) {
      last = admission.buffers.bytes
      await Bun.sleep(200)
    }
  }
  expect(full()).toBe(true)
  expect(admission.buffers.bytes).toBeLessThanOrEqual(slow.length * admission.buffers.perStream)
  const before = calls
  expect(before).toBe(slow.length)

  const openai = new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/openai`, maxRetries: 0 })
  const o = await openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [] }).then(() => undefined, (e) => e as InstanceType<typeof OpenAI.APIError>)
  expect(o?.status).toBe(503)
  expect((o?.error as { code?: string; message?: string }).code).toBe('gateway_overloaded')
  expect((o?.error as { message?: string }).message).toContain('memory budget')
  expect(o?.headers?.get('retry-after')).toBe('1')

  const anthropic = new Anthropic({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/anthropic`, maxRetries: 0 })
  const a = await anthropic.messages.create({ model: 'claude-3-5-haiku-latest', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }).then(() => undefined, (e) => e as InstanceType<typeof Anthropic.APIError>)
  expect(a?.status).toBe(503)
  expect((a?.error as { type?: string; error?: { type?: string; message?: string } }).type).toBe('error')
  expect((a?.error as { error?: { type?: string } }).error?.type).toBe('overloaded_error')
  expect(a?.headers?.get('retry-after')).toBe('1')
  // Refused before anything went upstream.
  expect(calls).toBe(before)
  const metrics = await gateway.gw.telemetry.metrics.registry.metrics()
  expect(metrics).toMatch(/tollgate_stream_buffer_bytes [1-9]\d*/)
  expect(metrics).toContain('tollgate_stream_buffer_budget_bytes 1048576')

  // The admitted streams were not hurt: each arrives whole once its client reads.
  for (const s of slow) s.s.resume()
  await Promise.all(slow.map((s) => s.closed))
  for (const s of slow) {
    const text = s.text()
    expect(text.startsWith('HTTP/1.1 200')).toBe(true)
    expect(text).toContain('data: [DONE]')
    expect(text.length).toBeGreaterThan(BODY)
  }
  expect(admission.buffers.bytes).toBe(0)
  expect(admission.inflight).toBe(0)
  // Room again: the next request goes through.
  const served = await openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [] })
  for await (const _ of served) void _
  expect(calls).toBe(before + 1)
}, 60_000)
