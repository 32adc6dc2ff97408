/**
 * Load and memory under many streams (issue 16), against a cold gateway and a bare Bun
 * pass-through, each in its own process; clients are raw sockets (node:net), because Bun's
 * fetch reads eagerly and caps concurrency. Only 127.0.0.1. Every loop is bounded.
 *   npm run bench:load              # STREAMS=8000 SECONDS=5 SLOW=20
 * Prints: complete/failed of STREAMS concurrent streams, RSS per open stream (at 2,000 and
 * at STREAMS), RSS growth and bytes pulled from the upstream per slow reader of 2 MB and 32 MB,
 * and p50 of a normal request from another key idle vs while the streams run.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rssKb, start as startProcess } from './lib/processes'

const ROOT = join(import.meta.dir, '..')
const STREAMS = Number(process.env.STREAMS ?? 8000)
const SECONDS = Number(process.env.SECONDS ?? 5)
const SLOW = Number(process.env.SLOW ?? 20)
const KEY_A = 'tg-bench-load-key-a-000000000000000000001'
const KEY_B = 'tg-bench-load-key-b-000000000000000000002'

if (process.argv[2] === 'upstream') {
  // Streams last SECONDS (one event a second); `bytes=N` streams N bytes as fast as the reader takes them.
  let pulled = 0
  const enc = new TextEncoder()
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    idleTimeout: 0,
    async fetch(req) {
      const u = new URL(req.url)
      if (u.pathname === '/pulled') return new Response(String(pulled))
      const body = await req.text()
      const size = Number(/"bytes":(\d+)/.exec(body)?.[1] ?? 0)
      if (size) {
        const chunk = enc.encode(`data: ${'x'.repeat(16 * 1024 - 8)}\n\n`)
        let sent = 0
        return new Response(new ReadableStream({ type: 'bytes', pull(c) {
          if (sent >= size) return c.close()
          sent += chunk.byteLength
          pulled += chunk.byteLength
          c.enqueue(chunk.slice())
        } }, { highWaterMark: 0 }), { headers: { 'content-type': 'text/event-stream' } })
      }
      if (!body.includes('"stream":true')) return Response.json({ id: 'x', object: 'chat.completion', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })
      return new Response(new ReadableStream({ async start(c) {
        for (let i = 0; i < SECONDS; i++) {
          c.enqueue(enc.encode('data: {"choices":[{"index":0,"delta":{"content":"x"}}]}\n\n'))
          await Bun.sleep(1000)
        }
        c.enqueue(enc.encode('data: [DONE]\n\n'))
        c.close()
      } }), { headers: { 'content-type': 'text/event-stream' } })
    },
  })
  console.log(`READY ${server.port}`)
} else await main()

function start(cmd: string[], env: Record<string, string> = {}) {
  return startProcess(cmd, ROOT, { BUN_CONFIG_MAX_HTTP_REQUESTS: '65336', ...env }, true)
}

/** One raw request; resolves with its status (0: no answer) once the response ends. */
function raw(port: number, key: string, body: string, opts: { readDelayMs?: number; timeoutMs?: number; onHead?: () => void } = {}): Promise<number> {
  return new Promise((resolve) => {
    let head = ''
    let status = 0
    const s = connect(port, '127.0.0.1', () => {
      s.write(`POST /openai/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
    })
    const timer = setTimeout(() => s.destroy(), opts.timeoutMs ?? 120_000)
    s.on('data', (d) => {
      if (!status) {
        head += d.toString('latin1', 0, Math.min(d.length, 64))
        status = Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0)
        if (status) opts.onHead?.()
      }
      if (opts.readDelayMs) {
        s.pause()
        setTimeout(() => s.resume(), opts.readDelayMs)
      }
    })
    s.on('close', () => (clearTimeout(timer), resolve(status)))
    s.on('error', () => {})
  })
}

/** CPU seconds (user + system) a process has used (Linux, clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}

/** p50 of another key's requests, and the server's CPU use meanwhile (1 = one core). */
async function p50Cpu(port: number, pid: number): Promise<{ p50: number; cpu: number }> {
  const [c, t] = [cpuSeconds(pid), performance.now()]
  const p = await p50(port)
  return { p50: p, cpu: (cpuSeconds(pid) - c) / ((performance.now() - t) / 1000) }
}

async function p50(port: number, n = 30): Promise<number> {
  const ms: number[] = []
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await raw(port, KEY_B, '{"model":"gpt-4o-mini","messages":[]}', { timeoutMs: 10_000 })
    ms.push(performance.now() - t)
  }
  ms.sort((a, b) => a - b)
  return ms[Math.floor(n / 2)]!
}

/**
 * `n` streams of key A at once. RSS is read once every stream has its response head (all open:
 * earlier, part of the burst is still connecting and the per-stream figure reads low), then
 * `during` runs while they are all still open.
 */
async function streams<D>(port: number, pid: number, n: number, during?: () => Promise<D>): Promise<{ ok: number; failed: number; perStreamKb: number; openMs: number; during?: D }> {
  const base = rssKb(pid)
  const body = '{"model":"gpt-4o-mini","stream":true,"messages":[]}'
  const t0 = performance.now()
  let heads = 0
  let allOpen!: () => void
  const open = new Promise<void>((r) => (allOpen = r))
  const all = Array.from({ length: n }, () => raw(port, KEY_A, body, { onHead: () => ++heads === n && allOpen() }))
  // Bounded: a stream that never answers must not stall the benchmark.
  await Promise.race([open, Bun.sleep(SECONDS * 1000 - 1500)])
  const openMs = performance.now() - t0
  const peak = rssKb(pid)
  const p = await during?.()
  const codes = await Promise.all(all)
  const ok = codes.filter((c) => c === 200).length
  return { ok, failed: n - ok, perStreamKb: (peak - base) / n, openMs, during: p }
}

async function slow(port: number, pid: number, upstreamPort: number, bytes: number): Promise<{ rssKbPerReader: number; pulledMbPerReader: number }> {
  const base = rssKb(pid)
  const before = Number(await (await fetch(`http://127.0.0.1:${upstreamPort}/pulled`)).text())
  const body = `{"model":"gpt-4o-mini","stream":true,"bytes":${bytes},"messages":[]}`
  const all = Array.from({ length: SLOW }, () => raw(port, KEY_A, body, { readDelayMs: 1000, timeoutMs: 8_000 }))
  await Bun.sleep(6_000)
  const rss = rssKb(pid)
  const pulled = Number(await (await fetch(`http://127.0.0.1:${upstreamPort}/pulled`)).text()) - before
  await Promise.all(all)
  return { rssKbPerReader: (rss - base) / SLOW, pulledMbPerReader: pulled / SLOW / 1e6 }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tg-bench-load-'))
  const up = await start([process.execPath, import.meta.path, 'upstream'])
  const url = `http://127.0.0.1:${up.port}`
  writeFileSync(join(dir, 'config.toml'),
    `[server]\nlisten = "127.0.0.1:0"\n[database]\nurl = "file:${join(dir, 't.db')}"\n[logging]\nlevel = "off"\n[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${url}/v1"\napi_key = "sk-bench"\n` +
      `[[projects]]\nid = "p"\n[[keys]]\nid = "a"\nproject = "p"\nkey = "${KEY_A}"\n[[keys]]\nid = "b"\nproject = "p"\nkey = "${KEY_B}"\n`)
  const rows: string[][] = [['', 'tollgate', 'bare']]
  const gw = await start([process.execPath, join(ROOT, 'src/cli.ts'), 'serve', '--config', join(dir, 'config.toml')], { TOLLGATE_OTEL: '' })
  const bare = await start([process.execPath, join(ROOT, 'scripts/bench-servers.ts'), 'bare', url])
  try {
    // Cold: the gateway has sent nothing upstream yet, so the burst meets the connect probe.
    const runs: Record<string, { r: Awaited<ReturnType<typeof streams<{ p50: number; cpu: number }>>>; burst: number }> = {}
    for (const [name, s] of [['tollgate', gw], ['bare', bare]] as const) {
      // Another key's normal requests while the burst opens, and again once every stream is open.
      const burst = Bun.sleep(500).then(() => p50(s.port))
      const r = await streams(s.port, s.proc.pid, STREAMS, () => p50Cpu(s.port, s.proc.pid))
      runs[name] = { r, burst: await burst }
    }
    const [t, b] = [runs.tollgate!, runs.bare!]
    rows.push([`${STREAMS} streams of ${SECONDS} s: complete / failed`, `${t.r.ok} / ${t.r.failed}`, `${b.r.ok} / ${b.r.failed}`])
    rows.push([`  time until every stream had its response head (ms)`, t.r.openMs.toFixed(0), b.r.openMs.toFixed(0)])
    rows.push([`RSS per open stream at ${STREAMS} (KB)`, t.r.perStreamKb.toFixed(1), b.r.perStreamKb.toFixed(1)])
    if (STREAMS !== 2000) {
      const t2 = await streams(gw.port, gw.proc.pid, 2000, () => p50Cpu(gw.port, gw.proc.pid))
      const b2 = await streams(bare.port, bare.proc.pid, 2000, () => p50Cpu(bare.port, bare.proc.pid))
      rows.push(['RSS per open stream at 2000 (KB)', t2.perStreamKb.toFixed(1), b2.perStreamKb.toFixed(1)])
      rows.push([`p50 normal request (other key) with 2000 streams open (ms)`, t2.during!.p50.toFixed(1), b2.during!.p50.toFixed(1)])
      rows.push([`  server CPU meanwhile (cores)`, t2.during!.cpu.toFixed(2), b2.during!.cpu.toFixed(2)])
    }
    const idle = [await p50(gw.port), await p50(bare.port)]
    rows.push(['p50 normal request, idle (ms)', idle[0]!.toFixed(1), idle[1]!.toFixed(1)])
    rows.push([`p50 normal request (other key) while the ${STREAMS} streams open (ms)`, t.burst.toFixed(1), b.burst.toFixed(1)])
    rows.push([`p50 normal request (other key) with all ${STREAMS} streams open (ms)`, t.r.during!.p50.toFixed(1), b.r.during!.p50.toFixed(1)])
    rows.push([`  server CPU meanwhile (cores)`, t.r.during!.cpu.toFixed(2), b.r.during!.cpu.toFixed(2)])
    for (const mb of [2, 32]) {
      const t = await slow(gw.port, gw.proc.pid, up.port, mb * 1024 * 1024)
      const b = await slow(bare.port, bare.proc.pid, up.port, mb * 1024 * 1024)
      rows.push([`${SLOW} slow readers of ${mb} MB (1 read/s): RSS per reader (KB)`, t.rssKbPerReader.toFixed(0), b.rssKbPerReader.toFixed(0)])
      rows.push([`  pulled from upstream per reader in 6 s (MB)`, t.pulledMbPerReader.toFixed(1), b.pulledMbPerReader.toFixed(1)])
    }
  } finally {
    for (const p of [gw.proc, bare.proc, up.proc]) p.kill()
  }
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  for (const r of rows) console.log(r.map((c, i) => (i ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  '))
}
