// server.stream_buffer_bytes: what a relay has written to the response and its client's socket has
// not taken stays within the bound, counted in the shared gauge, which is back at 0 when the
// stream ends. Bytes, not timings; the client is a raw socket that stops reading.
import { afterAll, expect, test } from 'bun:test'
import { connect, type Socket } from 'node:net'
import { meteredStream, type StreamBuffers } from '../../src/proxy/stream'

const servers: { stop(force?: boolean): void }[] = []
afterAll(() => servers.forEach((s) => s.stop(true)))

/** A gauge that remembers the most it ever held. */
function watched(perStream: number): StreamBuffers & { max: number } {
  let bytes = 0
  return {
    perStream,
    max: 0,
    get bytes() {
      return bytes
    },
    set bytes(n: number) {
      bytes = n
      if (n > this.max) this.max = n
    },
  }
}

/** An upstream that sends `total` bytes in chunks of `chunk` as fast as it is read, counting what it produced. */
function upstream(total: number, chunk: number) {
  const state = { produced: 0 }
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', idleTimeout: 0, fetch: () => {
    let sent = 0
    return new Response(new ReadableStream({ type: 'bytes', pull(c) {
      if (sent >= total) return c.close()
      sent += chunk
      state.produced += chunk
      c.enqueue(new Uint8Array(chunk).fill(97 + ((sent / chunk) % 26)))
    } }, { highWaterMark: 0 }))
  } })
  servers.push(server)
  return { port: server.port!, state }
}

function relay(upPort: number, buffers: StreamBuffers) {
  const gw = Bun.serve({ port: 0, hostname: '127.0.0.1', idleTimeout: 0, async fetch() {
    const res = await fetch(`http://127.0.0.1:${upPort}/`)
    return new Response(meteredStream(res.body!, { push() {}, end() {} }, { firstByte() {}, end() {} }, new AbortController(), undefined, buffers))
  } })
  servers.push(gw)
  return gw.port!
}

/** A raw client that reads the head, then stops reading; `read()` counts body bytes once resumed. */
function pausedClient(port: number): { s: Socket; received: () => number; closed: Promise<void> } {
  let got = 0
  const s = connect({ port, host: '127.0.0.1' }, () => s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))
  let first = true
  s.on('data', (d: Buffer) => {
    got += d.length
    if (first) {
      first = false
      s.pause()
    }
  })
  s.on('error', () => {})
  const closed = new Promise<void>((r) => s.on('close', () => r()))
  return { s, received: () => got, closed }
}

/** Waits (bounded) until `value` stops changing: two equal readings 300 ms apart. */
async function settled(value: () => number): Promise<void> {
  let last = -1
  for (let i = 0; i < 40 && value() !== last; i++) {
    last = value()
    await Bun.sleep(300)
  }
}

for (const [name, chunk, bound] of [
  ['chunks smaller than the bound', 16 * 1024, 64 * 1024],
  ['chunks larger than the bound go in pieces', 1024 * 1024, 64 * 1024],
] as const) {
  test(`a slow reader: the relay queues at most stream_buffer_bytes (${name}); the gauge returns to 0`, async () => {
    const TOTAL = 48 * 1024 * 1024
    const up = upstream(TOTAL, chunk)
    const buffers = watched(bound)
    const c = pausedClient(relay(up.port, buffers))
    await settled(() => up.state.produced)
    // Stalled: the relay holds bytes the socket has not taken (counted), no more than the bound,
    // and the upstream stopped far short of the body.
    expect(buffers.bytes).toBeGreaterThan(0)
    expect(buffers.bytes).toBeLessThanOrEqual(bound)
    expect(up.state.produced).toBeLessThan(TOTAL / 2)
    c.s.resume()
    await c.closed
    expect(up.state.produced).toBe(TOTAL)
    expect(c.received()).toBeGreaterThan(TOTAL)
    expect(buffers.max).toBeLessThanOrEqual(bound)
    expect(buffers.bytes).toBe(0)
  }, 30_000)
}

test('a client that leaves while the relay is stalled: the gauge returns to 0', async () => {
  const up = upstream(64 * 1024 * 1024, 64 * 1024)
  const buffers = watched(128 * 1024)
  const c = pausedClient(relay(up.port, buffers))
  await settled(() => up.state.produced)
  expect(buffers.bytes).toBeGreaterThan(0)
  c.s.destroy()
  for (let i = 0; i < 50 && buffers.bytes !== 0; i++) await Bun.sleep(100)
  expect(buffers.bytes).toBe(0)
}, 30_000)
