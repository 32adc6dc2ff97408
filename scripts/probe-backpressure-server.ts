// Probe (bun scripts/probe-backpressure-server.ts pull|direct|directlog): does Bun.serve stop pulling a body when a raw-socket client stops reading? directlog does not await write().
import net from 'node:net'
const mode = process.argv[2] ?? 'pull'
const TOTAL = 64 * 1024 * 1024
const CHUNK = 64 * 1024
let produced = 0
const chunk = new Uint8Array(CHUNK).fill(97)
function body(): ReadableStream<Uint8Array> | any {
  if (mode === 'pull')
    return new ReadableStream({ pull(c) { if (produced >= TOTAL) return c.close(); produced += CHUNK; c.enqueue(chunk.slice()) } }, new ByteLengthQueuingStrategy({ highWaterMark: 256 * 1024 }))
  if (mode === 'direct')
    return new ReadableStream({ type: 'direct', async pull(c: any) { while (produced < TOTAL) { produced += CHUNK; const r = c.write(chunk.slice()); if (r instanceof Promise) await r; const f = c.flush(); if (f instanceof Promise) await f } c.close() } } as any)
  if (mode === 'directlog')
    return new ReadableStream({ type: 'direct', async pull(c: any) { let i = 0; while (produced < TOTAL) { produced += CHUNK; const r = c.write(chunk.slice()); const f = c.flush(); if (i++ < 3 || i % 200 === 0) console.log('write ->', r, 'flush ->', f); if (f instanceof Promise) await f; else await Bun.sleep(0) } c.close() } } as any)
}
const server = Bun.serve({ port: 0, fetch: () => new Response(body(), { headers: { 'content-type': 'application/octet-stream' } }) })
let read = 0
const s = net.connect(server.port!, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))
s.on('data', (d) => { read += d.length; if (read > 16384) s.pause() })
const rss0 = process.memoryUsage().rss
for (const t of [1, 3, 6]) {
  await Bun.sleep(t === 1 ? 1000 : t === 3 ? 2000 : 3000)
  console.log(`${mode} t=${t}s produced=${(produced / 1048576).toFixed(1)}MB read=${(read / 1024).toFixed(0)}KB rssΔ=${((process.memoryUsage().rss - rss0) / 1048576).toFixed(0)}MB`)
}
process.exit(0)
