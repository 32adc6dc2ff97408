/**
 * Slow readers (issue 16 §2): RSS growth per slow reader and bytes the upstream sent vs bytes the
 * client read, for the gateway and a bare Bun pass-through, each in its own process. Clients are
 * raw sockets under Node (scripts/slow-readers.mjs) that read 1 KB a second (Bun's fetch, and
 * Bun's node:net, read eagerly and would hide the problem). Only 127.0.0.1; bounded loops.
 *   npm run bench:slow            # N2=100 readers of 2 MB, N32=10 readers of 32 MB, HOLD=6 s
 * A second gateway runs with BUN_GARBAGE_COLLECTOR_LEVEL=2 (Bun collects garbage far more
 * often): its growth is what the streams hold, where the first one's also counts garbage of the
 * bytes that passed through (each chunk's decoded text for the usage reader) not yet collected,
 * which varies from run to run with when the collector runs.
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
  const serve = [process.execPath, join(ROOT, 'src/cli.ts'), 'serve', '--config', join(dir, 'config.toml')]
  const gw = await start(serve, { TOLLGATE_OTEL: '' })
  const gc = await start(serve, { TOLLGATE_OTEL: '', BUN_GARBAGE_COLLECTOR_LEVEL: '2' })
  const bare = await start([process.execPath, join(ROOT, 'scripts/bench-servers.ts'), 'bare', url])
  const servers = [gw, gc, bare]
  const rows: string[][] = [['', 'tollgate', 'tollgate, GC level 2', 'bare']]
  try {
    // Warm-up (discarded): start-up garbage is freed during the first streams, which would read as negative growth.
    for (const s of servers) await slow(s.port, s.proc.pid, up.port, 10, 2 * 1024 * 1024)
    for (const [n, mb] of [[N2, 2], [N32, 32]] as const) {
      const r: Awaited<ReturnType<typeof slow>>[] = []
      for (const s of servers) r.push(await slow(s.port, s.proc.pid, up.port, n, mb * 1024 * 1024))
      const row = (label: string, f: (x: (typeof r)[number]) => string) => rows.push([label, ...r.map(f)])
      row(`${n} slow readers of ${mb} MB, after ${HOLD} s: RSS growth per reader (KB)`, (x) => x.rssKb.toFixed(0))
      row(`  upstream sent per reader (MB)`, (x) => x.pulledMb.toFixed(2))
      row(`  client read per reader (MB)`, (x) => x.readMb.toFixed(2))
      row(`  in the client socket's user-space buffer (MB)`, (x) => x.clientBufMb.toFixed(2))
      row(`  in kernel socket queues on 127.0.0.1, all hops (MB)`, (x) => x.kernelMb.toFixed(2))
    }
  } finally {
    for (const p of [...servers.map((s) => s.proc), up.proc]) p.kill()
  }
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  for (const r of rows) console.log(r.map((c, i) => (i ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  '))
}
