// Probe (bun scripts/probe-backpressure-relay.ts bare|fetch-direct|fetch-pull|node-direct|node-pull): upstream -> relay -> raw-socket client that stops reading; upstream bytes sent.
import net from 'node:net'
import http from 'node:http'
const mode = process.argv[2] ?? 'fetch-direct'
const TOTAL = 64 * 1024 * 1024
const CHUNK = 64 * 1024
let produced = 0
const chunk = new Uint8Array(CHUNK).fill(97)
const up = Bun.serve({ port: 0, fetch: () => new Response(new ReadableStream({ pull(c) { if (produced >= TOTAL) return c.close(); produced += CHUNK; c.enqueue(chunk.slice()) } }, new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }))) })
const url = `http://127.0.0.1:${up.port}/`
function relayDirect(reader: ReadableStreamDefaultReader<Uint8Array>) {
  return new ReadableStream({ type: 'direct', async pull(c: any) { for (;;) { const { done, value } = await reader.read(); if (done) return c.close(); const r = c.write(value); if (r instanceof Promise) await r } } } as any)
}
function relayPull(reader: ReadableStreamDefaultReader<Uint8Array>) {
  return new ReadableStream({ async pull(c) { const { done, value } = await reader.read(); if (done) c.close(); else c.enqueue(value) } }, new ByteLengthQueuingStrategy({ highWaterMark: 256 * 1024 }))
}
function nodeUpstream(): Promise<ReadableStreamDefaultReader<Uint8Array>> {
  return new Promise((res) => http.get(url, (m) => {
    m.pause()
    const queue: Buffer[] = []; let waiter: ((v: any) => void) | null = null; let ended = false
    m.on('data', (d: Buffer) => { m.pause(); if (waiter) { const w = waiter; waiter = null; w({ done: false, value: d }) } else queue.push(d) })
    m.on('end', () => { ended = true; if (waiter) waiter({ done: true }) })
    res({ read: () => { const q = queue.shift(); if (q) return Promise.resolve({ done: false, value: q }); if (ended) return Promise.resolve({ done: true }); m.resume(); return new Promise((r) => (waiter = r)) } } as any)
  }))
}
const gw = Bun.serve({ port: 0, async fetch() {
  if (mode === 'bare') return fetch(url)
  const reader = mode.startsWith('node') ? await nodeUpstream() : (await fetch(url)).body!.getReader()
  return new Response(mode.endsWith('direct') ? relayDirect(reader as ReadableStreamDefaultReader<Uint8Array>) : relayPull(reader as ReadableStreamDefaultReader<Uint8Array>))
} })
let read = 0
const s = net.connect(gw.port!, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))
s.on('data', (d) => { read += d.length; if (read > 16384) s.pause() })
for (const t of [1, 3, 6]) {
  await Bun.sleep(t === 1 ? 1000 : t === 3 ? 2000 : 3000)
  console.log(`${mode} t=${t}s upstream-produced=${(produced / 1048576).toFixed(1)}MB client-read=${(read / 1024).toFixed(0)}KB`)
}

process.exit(0)
