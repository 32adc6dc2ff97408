// The relay stops reading the upstream while a raw-socket client does not read (it awaits each
// write), and the whole body arrives intact once the client reads. Bytes, not timings: what the
// upstream produced is bounded by socket buffers, far below the body's size.
import { afterAll, expect, test } from 'bun:test'
import { connect } from 'node:net'
import { meteredStream } from '../../src/proxy/stream'

const TOTAL = 64 * 1024 * 1024
const CHUNK = 64 * 1024
let produced = 0
const servers: { stop(force?: boolean): void }[] = []
afterAll(() => servers.forEach((s) => s.stop(true)))

test('a slow raw-socket reader stops the upstream; the full body arrives once it reads', async () => {
  const up = Bun.serve({ port: 0, hostname: '127.0.0.1', idleTimeout: 0, fetch: () => new Response(new ReadableStream({ pull(c) {
    if (produced >= TOTAL) return c.close()
    const chunk = new Uint8Array(CHUNK).fill(97 + ((produced / CHUNK) % 26))
    produced += CHUNK
    c.enqueue(chunk)
  } }, new ByteLengthQueuingStrategy({ highWaterMark: CHUNK }))) })
  servers.push(up)
  const gw = Bun.serve({ port: 0, hostname: '127.0.0.1', idleTimeout: 0, async fetch() {
    const res = await fetch(`http://127.0.0.1:${up.port}/`)
    return new Response(meteredStream(res.body!, { push() {}, end() {} }, { firstByte() {}, end() {} }, new AbortController()))
  } })
  servers.push(gw)
  let read = 0
  const parts: Buffer[] = []
  const s = connect(gw.port!, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))
  const done = new Promise<void>((resolve) => s.on('close', () => resolve()))
  let head = true
  s.on('data', (d: Buffer) => {
    read += d.length
    if (head) {
      head = false
      s.pause()
    }
    parts.push(d)
  })
  // Wait (bounded) until the upstream has stopped producing: two equal readings 300 ms apart.
  let last = -1
  for (let i = 0; i < 40 && produced !== last; i++) {
    last = produced
    await Bun.sleep(300)
  }
  expect(read).toBeLessThan(1024 * 1024)
  // Socket buffers on both hops (a few MB each on loopback), not the 64 MB body.
  expect(produced).toBeLessThan(TOTAL / 2)
  s.resume()
  await done
  expect(produced).toBe(TOTAL)
  // Undo the chunked framing; every 64 KiB block must hold its own letter, in order.
  const all = Buffer.concat(parts)
  let at = all.indexOf('\r\n\r\n') + 4
  const body: Buffer[] = []
  for (;;) {
    const eol = all.indexOf('\r\n', at)
    const size = parseInt(all.toString('latin1', at, eol), 16)
    if (!size) break
    body.push(all.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
  const got = Buffer.concat(body)
  expect(got.length).toBe(TOTAL)
  for (let i = 0; i < TOTAL; i += CHUNK) {
    const want = 97 + ((i / CHUNK) % 26)
    if (got[i] !== want || got[i + CHUNK - 1] !== want) throw new Error(`block ${i / CHUNK} is wrong`)
  }
}, 30_000)
