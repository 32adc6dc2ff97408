/**
 * Slow readers (issue 16 §2): RSS growth per slow reader and bytes the upstream sent vs bytes the
 * client read, for the gateway and a bare Bun pass-through, each in its own process. Clients are
 * raw sockets under Node (scripts/slow-readers.mjs) that read 1 KB a second (Bun's fetch, and
 * Bun's node:net, read eagerly and would hide the problem). Only 127.0.0.1; bounded loops.
 *   npm run bench:slow            # N2=100 readers of 2 MB, N32=10 readers of 32 MB, HOLD=6 s
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rssKb, start as startProcess } from './lib/processes'

const ROOT = join(import.meta.dir, '..')
const N2 = Number(process.env.N2 ?? 100)
const N32 = Number(process.env.N32 ?? 10)
const HOLD = Number(process.env.HOLD ?? 6)
const KEY = 'tg-bench-slow-key-a-000000000000000000001'

if (process.argv[2] === 'upstream') {
  // `"bytes":N` in the body: N bytes of SSE, produced only as fast as the reader takes them.
  let pulled = 0
  const chunk = new TextEncoder().encode(`data: ${'x'.repeat(16 * 1024 - 8)}\n\n`)
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', idleTimeout: 0, async fetch(req) {
    if (new URL(req.url).pathname === '/pulled') return new Response(String(pulled))
    const size = Number(/"bytes":(\d+)/.exec(await req.text())?.[1] ?? 0)
    let sent = 0
    return new Response(new ReadableStream({ type: 'bytes', pull(c) {
      if (sent >= size) return c.close()
      sent += chunk.byteLength
      pulled += chunk.byteLength
      c.enqueue(chunk.slice())
    } }, { highWaterMark: 0 }), { headers: { 'content-type': 'text/event-stream' } })
  } })
  console.log(`READY ${server.port}`)
} else await main()

function start(cmd: string[], env: Record<string, string> = {}) {
  return startProcess(cmd, ROOT, { ...env }, false)
}

/** Bytes queued in the kernel (Recv-Q + Send-Q) over every TCP socket on loopback: what is not in any process. */
function socketQueues(): number {
  const out = Bun.spawnSync(['ss', '-tnH', 'state', 'connected']).stdout.toString()
  let sum = 0
  for (const line of out.split('\n')) {
    // With a state filter other than one state, ss prints the state first.
    const [, recv, send] = line.trim().split(/\s+/)
    if (recv && send) sum += Number(recv) + Number(send)
  }
  return sum
}

async function slow(port: number, pid: number, upstreamPort: number, n: number, bytes: number) {
  const pulledNow = async () => Number(await (await fetch(`http://127.0.0.1:${upstreamPort}/pulled`)).text())
  await Bun.sleep(1000)
  const base = rssKb(pid)
  const before = await pulledNow()
  const body = `{"model":"gpt-4o-mini","stream":true,"bytes":${bytes},"messages":[]}`
  const readers = Bun.spawn(['node', join(ROOT, 'scripts/slow-readers.mjs'), String(port), String(n), String(HOLD), body], { env: { ...process.env, KEY }, stdout: 'pipe', stderr: 'inherit' })
  // The readers print their tally after HOLD seconds; measure the same moment here.
  const out = (readers.stdout as ReadableStream<Uint8Array>).getReader()
  const { value } = await out.read()
  const client = JSON.parse(new TextDecoder().decode(value)) as { read: number; buffered: number }
  const rss = rssKb(pid)
  const pulled = (await pulledNow()) - before
  const kernel = socketQueues()
  readers.kill()
  await readers.exited
  return { rssKb: (rss - base) / n, pulledMb: pulled / n / 1e6, readMb: client.read / n / 1e6, kernelMb: kernel / n / 1e6, clientBufMb: client.buffered / n / 1e6 }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tg-bench-slow-'))
  const up = await start([process.execPath, import.meta.path, 'upstream'])
  const url = `http://127.0.0.1:${up.port}`
  writeFileSync(join(dir, 'config.toml'),
    `[server]\nlisten = "127.0.0.1:0"\n[database]\nurl = "file:${join(dir, 't.db')}"\n[logging]\nlevel = "off"\n[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${url}/v1"\napi_key = "sk-bench"\n` +
      `[[projects]]\nid = "p"\n[[keys]]\nid = "a"\nproject = "p"\nkey = "${KEY}"\n`)
  const gw = await start([process.execPath, join(ROOT, 'src/cli.ts'), 'serve', '--config', join(dir, 'config.toml')], { TOLLGATE_OTEL: '' })
  const bare = await start([process.execPath, join(ROOT, 'scripts/bench-servers.ts'), 'bare', url])
  const rows: string[][] = [['', 'tollgate', 'bare']]
  try {
    // Warm-up (discarded): start-up garbage is freed during the first streams, which would read as negative growth.
    await slow(gw.port, gw.proc.pid, up.port, 10, 2 * 1024 * 1024)
    await slow(bare.port, bare.proc.pid, up.port, 10, 2 * 1024 * 1024)
    for (const [n, mb] of [[N2, 2], [N32, 32]] as const) {
      const t = await slow(gw.port, gw.proc.pid, up.port, n, mb * 1024 * 1024)
      const b = await slow(bare.port, bare.proc.pid, up.port, n, mb * 1024 * 1024)
      rows.push([`${n} slow readers of ${mb} MB, after ${HOLD} s: RSS growth per reader (KB)`, t.rssKb.toFixed(0), b.rssKb.toFixed(0)])
      rows.push([`  upstream sent per reader (MB)`, t.pulledMb.toFixed(2), b.pulledMb.toFixed(2)])
      rows.push([`  client read per reader (MB)`, t.readMb.toFixed(2), b.readMb.toFixed(2)])
      rows.push([`  in the client socket's user-space buffer (MB)`, t.clientBufMb.toFixed(2), b.clientBufMb.toFixed(2)])
      rows.push([`  in kernel socket queues on 127.0.0.1, all hops (MB)`, t.kernelMb.toFixed(2), b.kernelMb.toFixed(2)])
    }
  } finally {
    for (const p of [gw.proc, bare.proc, up.proc]) p.kill()
  }
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  for (const r of rows) console.log(r.map((c, i) => (i ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  '))
}
