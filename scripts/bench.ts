/**
 * `npm run bench`: direct to an instant upstream stub, through a bare Bun pass-through, and
 * through Tollgate (auth and request log on). For each: requests/s at 32 connections and
 * sequential p50/p99 latency, for JSON requests and SSE streams (time to first byte).
 * A benchmark, not a test: it prints a table and never fails on numbers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { failoverRows } from './bench-failover'
import { clusterRows } from './bench-cluster'
import { telemetryRows } from './bench-telemetry'

const ROOT = join(import.meta.dir, '..')
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 1000)
/** Load before each throughput cell, the same for every target: steady state, after the JIT has compiled the hot path. */
const WARM_MS = Number(process.env.BENCH_WARM_MS ?? 2000)
/** Throughput rounds; each cell reports its median. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
export const KEY = 'tg-bench-key-not-a-secret-0000000000000000'

export interface Target {
  name: string
  /** Base URL such that `${base}/chat/completions` is an OpenAI chat endpoint. */
  base: string
  headers: Record<string, string>
}

const procs: { p: Subprocess; cmd: string }[] = []
const cleanups: (() => void)[] = []
/** The process behind each URL startProcess returned (scripts/bench-rate.ts reads its CPU time). */
export const pids = new Map<string, number>()

/**
 * Starts a process and waits for its `READY <port>` or `listening on <url>` line. Its stdout
 * goes to a file, not through a pipe this process drains: Tollgate logs a line per request, and
 * reading those here would load the load generator itself.
 */
export async function startProcess(cmd: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-out-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const out = join(dir, 'stdout')
  const p = Bun.spawn(cmd, { cwd, env: { ...process.env, ...env }, stdout: Bun.file(out), stderr: 'inherit' })
  procs.push({ p, cmd: cmd.join(' ') })
  for (const deadline = performance.now() + 30_000; performance.now() < deadline; ) {
    await Bun.sleep(50)
    if (p.exitCode !== null) throw new Error(`${cmd.join(' ')} exited with ${p.exitCode}`)
    // Only the start of the file: the ready line comes first.
    const text = await Bun.file(out).slice(0, 64 * 1024).text().catch(() => '')
    const ready = /READY (\d+)/.exec(text)
    const listening = /listening on (http:\/\/\S+)/.exec(text)
    const url = ready ? `http://127.0.0.1:${ready[1]}` : listening?.[1]
    if (url) {
      pids.set(url, p.pid)
      return url
    }
  }
  throw new Error(`${cmd.join(' ')} did not start within 30 s`)
}

/**
 * Starts Tollgate with `extraToml` appended to a config pointing at the stub; returns its URL.
 * `database` replaces the embedded libSQL file (e.g. a PostgreSQL URL); `cwd` runs another
 * checkout's Tollgate (scripts/bench-ab.ts); `rateLimits` adds request-rate limits (never reached)
 * on the key, user and project; `bunArgs` go before the script (e.g. `--cpu-prof`); `env` is added to its environment.
 */
export async function startTollgate(stub: string, extraToml = '', opts: { database?: string; cwd?: string; rateLimits?: boolean; bunArgs?: string[]; env?: Record<string, string> } = {}): Promise<string> {
  const rl = opts.rateLimits ? '\nrate_limits = { rpm = 100000000, concurrency = 100000 }' : ''
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const config = join(dir, 'config.toml')
  writeFileSync(
    config,
    `[server]\nlisten = "127.0.0.1:0"\n[database]\nurl = "${opts.database ?? `file:${join(dir, 'bench.db')}`}"\n` +
      `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${stub}/v1"\napi_key = "sk-test-bench"\n` +
      // Spend limits on every scope (set high enough never to refuse): the targets hold with limits on.
      `[[projects]]\nid = "bench"\nlimits = { daily = 1000000.0, monthly = 1000000.0 }${rl}\n[[users]]\nid = "bencher"\nprojects = ["bench"]\nlimits = { weekly = 1000000.0 }${rl}\n` +
      `[[keys]]\nid = "bench"\nproject = "bench"\nuser = "bencher"\nkey = "${KEY}"\nlimits = { total = 1000000.0 }${rl}\n${extraToml}`,
  )
  return startProcess([process.execPath, ...(opts.bunArgs ?? []), 'src/cli.ts', 'serve', '--config', config], opts.env ?? {}, opts.cwd)
}

const BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] })
const STREAM_BODY = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Hello' }] })

async function once(t: Target, stream: boolean): Promise<number> {
  const start = performance.now()
  const res = await fetch(`${t.base}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...t.headers }, body: stream ? STREAM_BODY : BODY })
  if (res.status !== 200) throw new Error(`${t.name}: status ${res.status}: ${await res.text()}`)
  if (stream) {
    const reader = res.body!.getReader()
    await reader.read()
    const ttfb = performance.now() - start
    while (!(await reader.read()).done);
    return ttfb
  }
  await res.arrayBuffer()
  return performance.now() - start
}

export async function throughput(t: Target, stream: boolean, warmMs: number): Promise<number> {
  let done = 0
  const warmUntil = performance.now() + warmMs
  while (performance.now() < warmUntil) await Promise.all(Array.from({ length: CONNECTIONS }, () => once(t, stream)))
  const end = performance.now() + SECONDS * 1000
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        await once(t, stream)
        done++
      }
    }),
  )
  return done / SECONDS
}

/**
 * Offered load at a fixed `rate` (requests/s) for `seconds`, over CONNECTIONS connections (a
 * request waits for its slot, or goes at once when late); returns the requests completed. At a
 * rate the machine keeps up with, CPU per request is steady to a few percent, where
 * throughput at saturation swings by a quarter with how the 2 cores get scheduled.
 */
export async function paced(t: Target, stream: boolean, rate: number, seconds: number): Promise<number> {
  let done = 0
  let slot = 0
  const t0 = performance.now()
  const end = t0 + seconds * 1000
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      for (;;) {
        const due = t0 + (slot++ * 1000) / rate
        if (due >= end) return
        const wait = due - performance.now()
        if (wait > 1) await Bun.sleep(wait)
        await once(t, stream)
        done++
      }
    }),
  )
  return done
}

export async function latency(t: Target, stream: boolean): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 100; i++) await once(t, stream)
  const xs: number[] = []
  for (let i = 0; i < SEQUENTIAL; i++) xs.push(await once(t, stream))
  xs.sort((a, b) => a - b)
  return { p50: xs[Math.floor(xs.length * 0.5)]!, p99: xs[Math.floor(xs.length * 0.99)]! }
}

interface Row {
  name: string
  rps: number
  p50: number
  p99: number
  srps: number
  ttfb50: number
  ttfb99: number
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/**
 * Throughput cells run in interleaved rounds (every target once per round) and each reports
 * its median: this shared 2-core machine drifts by ±25% over a minute, and a ratio between two
 * cells measured a minute apart measured the drift. The first round warms each target up.
 */
async function measureAll(targets: Target[]): Promise<Row[]> {
  const rps = targets.map(() => [] as number[])
  const srps = targets.map(() => [] as number[])
  for (let round = 0; round < ROUNDS; round++) {
    const warm = round === 0 ? WARM_MS : WARM_MS / 4
    for (const [i, t] of targets.entries()) {
      process.stderr.write(`round ${round + 1}/${ROUNDS}: ${t.name}…\n`)
      rps[i]!.push(await throughput(t, false, warm))
      srps[i]!.push(await throughput(t, true, warm))
      process.stderr.write(`  json ${rps[i]!.at(-1)!.toFixed(0)} req/s, sse ${srps[i]!.at(-1)!.toFixed(0)} req/s\n`)
    }
  }
  const rows: Row[] = []
  for (const [i, t] of targets.entries()) {
    process.stderr.write(`latency: ${t.name}…\n`)
    const l = await latency(t, false)
    const s = await latency(t, true)
    rows.push({ name: t.name, rps: median(rps[i]!), p50: l.p50, p99: l.p99, srps: median(srps[i]!), ttfb50: s.p50, ttfb99: s.p99 })
  }
  return rows
}

function print(rows: Row[]): void {
  const direct = rows.find((r) => r.name === 'direct')!
  const bare = rows.find((r) => r.name === 'bare pass-through')!
  const f = (n: number, d = 2) => n.toFixed(d)
  const header = ['target', 'json req/s', 'json p50 ms', 'json p99 ms', 'sse req/s', 'sse ttfb p50 ms', 'sse ttfb p99 ms', 'req/s ÷ bare', 'p50 over direct ms', 'sse ÷ bare', 'ttfb p50 over direct ms']
  const lines = rows.map((r) => [r.name, f(r.rps, 0), f(r.p50, 3), f(r.p99, 3), f(r.srps, 0), f(r.ttfb50, 3), f(r.ttfb99, 3), f(r.rps / bare.rps), f(r.p50 - direct.p50, 3), f(r.srps / bare.srps), f(r.ttfb50 - direct.ttfb50, 3)])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const fmt = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |'
  console.log(fmt(header))
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|')
  for (const l of lines) console.log(fmt(l))
  console.log(`\n${CONNECTIONS} connections for ${SECONDS} s per throughput cell, median of ${ROUNDS} interleaved rounds; ${SEQUENTIAL} sequential requests per latency cell. Targets: Tollgate ≥ 0.5× bare req/s, p50 ≤ 0.3 ms over direct.`)
}

/** Extra rows registered by other modules (failover, tracing, cluster): each returns a Target. */
export type RowFactory = (stub: string) => Promise<Target>
export const extraRows: { name: string; make: RowFactory }[] = []
// Routing groups: the latency cost of a first target that refuses connections (scripts/bench-failover.ts).
extraRows.push(...failoverRows(startTollgate, KEY))
// Observability: every span exported to a local OTLP sink, /metrics scraped (scripts/bench-telemetry.ts).
extraRows.push(...telemetryRows(startTollgate, startProcess, KEY))
// Limits shared through Redis: one instance with limits and rate limits, in memory and with Redis (scripts/bench-cluster.ts).
if (Bun.which('redis-server')) extraRows.push(...clusterRows(startTollgate, KEY))
else console.error('bench: redis-server not installed; the Redis rows are skipped')

async function main() {
  const stub = await startProcess([process.execPath, 'scripts/bench-servers.ts', 'stub'])
  const bare = await startProcess([process.execPath, 'scripts/bench-servers.ts', 'bare', stub], { BUN_CONFIG_MAX_HTTP_REQUESTS: '65336' })
  const tollgate = await startTollgate(stub)
  const targets: Target[] = [
    { name: 'direct', base: `${stub}/v1`, headers: {} },
    { name: 'bare pass-through', base: `${bare}/openai`, headers: {} },
    { name: 'tollgate', base: `${tollgate}/openai`, headers: { authorization: `Bearer ${KEY}` } },
  ]
  // BENCH_CORE_ONLY=1: the three rows the core targets compare, for a quick run.
  // BENCH_ONLY=<regex>: the core rows plus the extra rows whose names match.
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY, 'i') : undefined
  if (!process.env.BENCH_CORE_ONLY) {
    for (const r of extraRows) {
      if (only && !only.test(r.name)) continue
      const t = await r.make(stub)
      targets.push({ ...t, name: r.name })
    }
  }
  print(await measureAll(targets))
}

/** Stops every process started here (a server that ignores SIGTERM is killed after 15 s) and removes their files. */
export async function stopProcesses(): Promise<void> {
  for (const { p } of procs) p.kill('SIGTERM')
  // A server that does not stop is reported and killed: the benchmark itself must end.
  const late = Bun.sleep(15_000)
  for (const { p, cmd } of procs) {
    if ((await Promise.race([p.exited.then(() => true), late.then(() => false)])) === false) {
      console.error(`bench: ${cmd} did not stop within 15 s of SIGTERM; killed`)
      p.kill('SIGKILL')
    }
  }
  for (const c of cleanups) c()
}

/** A benchmark's entry: runs `body`, then stops every process started here, and exits (1 after an error). */
export async function runBench(body: () => Promise<void>): Promise<never> {
  let failed = false
  try {
    await body()
  } catch (e) {
    console.error(e)
    failed = true
  } finally {
    await stopProcesses()
    // Clients of the extra rows (Redis) may still hold the event loop; the run is over.
    process.exit(failed ? 1 : 0)
  }
}

if (import.meta.main) {
  // `npm run bench -- --rate N` (or `--latency-only`): CPU per request at a fixed rate (scripts/bench-rate.ts).
  const args = process.argv.slice(2)
  await runBench(async () => {
    if (args.includes('--rate') || args.includes('--latency-only')) await (await import('./bench-rate')).runRate(args)
    else await main()
  })
}
