/**
 * CPU per request at a fixed offered rate, and latency at one connection (issue 17).
 *   npm run bench:cpu                        # 4,000 req/s, 5 s per cell, 2 interleaved rounds
 *   npm run bench -- --rate 3000             # the same from `npm run bench`
 *   npm run bench:cpu -- --rate 4000 --seconds 5 --rounds 2 --latency   # also the 1-connection cells
 *   npm run bench:cpu -- --latency-only     # only the 1-connection cells
 *   npm run bench:cpu -- --profile DIR       # bare and Tollgate under `bun --cpu-prof`, profiles in DIR/bare, DIR/tollgate
 *   npm run bench:cpu -- --against DIR[,DIR]  # also other checkouts' Tollgate (before/after, interleaved)
 * Targets: the bare Bun pass-through; Tollgate with every default feature on (auth, spend
 * limits and rate limits at key, user and project level, pricing, request log, metrics, the
 * log line); and that Tollgate again with tracing at sample 0.1 to a local OTLP sink.
 *
 * The load generator is open-loop: requests are due at fixed times (every 1/rate s, sent from
 * a 1 ms timer), each goes on an idle keep-alive connection (raw HTTP/1.1 over node:net), and
 * latency runs from when it was due, so a slow server cannot slow the offered load down (no
 * coordinated omission; the 1 ms tick adds up to ~1 ms to every target's latency alike). A
 * request sent more than 2 ms after it was due (no idle connection, or the timer late) counts as late. CPU comes from /proc/<pid>/stat (utime +
 * stime, all threads, writer and query threads included) and /proc/<pid>/task/<pid>/stat (the
 * event-loop thread, whose tid is the pid), as the delta over the measured seconds ÷ the
 * requests completed in them. A benchmark, not a test: it prints and never fails on numbers.
 */
import { readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { KEY, median, pids, runBench, startProcess, startTollgate } from './bench'

const CLK_TCK = 100
/** A send this long after it was due counts as late (the timer ticks every 1 ms, so up to ~1 ms is the schedule's own granularity). */
const LATE_MS = 2
const BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] })

interface Options {
  rate: number
  seconds: number
  warmSeconds: number
  rounds: number
  connections: number
  latency: boolean
  latencyOnly: boolean
  latencySeconds: number
  profile?: string
  against?: string
}

export function parseArgs(argv: string[]): Options {
  const val = (name: string) => {
    const i = argv.indexOf(name)
    return i >= 0 ? argv[i + 1] : undefined
  }
  const num = (name: string, d: number) => {
    const v = val(name)
    if (v === undefined) return d
    const n = Number(v)
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} wants a positive number, got ${v}`)
    return n
  }
  return {
    rate: num('--rate', 4000),
    seconds: num('--seconds', 5),
    warmSeconds: num('--warm', 2),
    rounds: num('--rounds', 2),
    connections: num('--connections', 32),
    latency: argv.includes('--latency') || argv.includes('--latency-only'),
    latencyOnly: argv.includes('--latency-only'),
    latencySeconds: num('--latency-seconds', 6),
    profile: val('--profile'),
    against: val('--against'),
  }
}

interface Target {
  name: string
  url: string
  path: string
  headers: Record<string, string>
  pid: number
}

/** One keep-alive HTTP/1.1 connection that sends a prebuilt request and reads one response at a time. */
export class Conn {
  private socket: Socket
  private buf: Buffer = Buffer.alloc(0)
  private done: (() => void) | undefined
  private failed: ((e: Error) => void) | undefined
  ready: Promise<void>

  constructor(
    url: URL,
    private readonly request: Buffer,
  ) {
    this.socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true })
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve())
      this.socket.once('error', reject)
    })
    this.socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d
      this.parse()
    })
    this.socket.on('error', (e) => this.failed?.(e))
    this.socket.on('close', () => this.failed?.(new Error('connection closed')))
  }

  send(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.done = resolve
      this.failed = reject
      this.socket.write(this.request)
    })
  }

  /** Completes the request once a whole response (Content-Length or chunked) has arrived. */
  private parse(): void {
    const head = this.buf.indexOf('\r\n\r\n')
    if (head < 0) return
    const headers = this.buf.subarray(0, head).toString('latin1')
    const status = Number(headers.slice(9, 12))
    let end: number
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(headers)
    if (length) {
      end = head + 4 + Number(length[1])
      if (this.buf.length < end) return
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(headers)) {
      let at = head + 4
      for (;;) {
        const eol = this.buf.indexOf('\r\n', at)
        if (eol < 0) return
        const size = parseInt(this.buf.subarray(at, eol).toString('latin1'), 16)
        at = eol + 2 + size + 2
        if (this.buf.length < at) return
        if (size === 0) break
      }
      end = at
    } else {
      end = head + 4
    }
    this.buf = this.buf.subarray(end)
    const done = this.done
    const failed = this.failed
    this.done = this.failed = undefined
    if (status !== 200) failed?.(new Error(`status ${status}: ${headers.split('\r\n')[0]}`))
    else done?.()
  }

  close(): void {
    this.failed = undefined
    this.socket.destroy()
  }
}

function requestBytes(t: Target): Buffer {
  const u = new URL(t.url)
  const headers = { host: u.host, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(BODY)), ...t.headers }
  return Buffer.from(`POST ${t.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${BODY}`)
}

export async function connections(t: Target, n: number): Promise<Conn[]> {
  const req = requestBytes(t)
  const conns = Array.from({ length: n }, () => new Conn(new URL(t.url), req))
  await Promise.all(conns.map((c) => c.ready))
  return conns
}

/** CPU ticks (utime + stime) of the whole process and of its event-loop thread. */
function cpuTicks(pid: number): { proc: number; loop: number } {
  const ticks = (path: string) => {
    const s = readFileSync(path, 'utf8')
    // Fields after the command name (which may hold spaces), from field 3 on: utime is 14, stime 15.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    return Number(f[11]) + Number(f[12])
  }
  return { proc: ticks(`/proc/${pid}/stat`), loop: ticks(`/proc/${pid}/task/${pid}/stat`) }
}

const pct = (xs: number[], p: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor(xs.length * p))]! : NaN)

interface RateResult {
  offered: number
  achieved: number
  completed: number
  failed: number
  late: number
  loopUs: number
  procUs: number
  p50: number
  p90: number
  p99: number
}

/**
 * Offers `rate` req/s for `seconds` (after `warm` seconds at the same rate that are not
 * counted) on fresh connections, and measures. CPU per request is the CPU of the measured
 * window ÷ the requests completed in it, so it holds even when the target falls behind;
 * latency covers every request due in the window (those still open at its end are waited
 * for, up to 5 s).
 */
async function atRate(t: Target, n: number, rate: number, seconds: number, warm: number): Promise<RateResult> {
  // Fresh connections per cell: a server closes keep-alive connections idle for 10 s.
  const conns = await connections(t, n)
  const idle = [...conns]
  const pending: number[] = []
  const lat: number[] = []
  let inWindow = 0
  let failed = 0
  let late = 0
  let open = 0
  let firstError: string | undefined
  const t0 = performance.now()
  const measureFrom = t0 + warm * 1000
  const end = measureFrom + seconds * 1000

  const go = (c: Conn, due: number) => {
    const counted = due >= measureFrom
    if (counted && performance.now() - due > LATE_MS) late++
    open++
    c.send().then(
      () => {
        const now = performance.now()
        if (now >= measureFrom && now < end) inWindow++
        if (counted) lat.push(now - due)
      },
      (e: Error) => {
        if (counted) failed++
        firstError ??= e.message
      },
    ).finally(() => {
      open--
      const next = pending.shift()
      if (next !== undefined) go(c, next)
      else idle.push(c)
    })
  }
  const interval = 1000 / rate
  let due = t0
  let before = cpuTicks(t.pid)
  let after = before
  let measuring = false
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now()
      if (!measuring && now >= measureFrom) {
        measuring = true
        before = cpuTicks(t.pid)
      }
      if (now >= end) {
        after = cpuTicks(t.pid)
        return resolve()
      }
      for (; due <= now && due < end; due += interval) {
        const c = idle.pop()
        if (c) go(c, due)
        else pending.push(due)
      }
      setTimeout(tick, 1)
    }
    tick()
  })
  for (const deadline = performance.now() + 5000; (open || pending.length) && performance.now() < deadline; ) await Bun.sleep(5)
  for (const c of conns) c.close()
  if (firstError) process.stderr.write(`  ${t.name}: ${failed} failed, first: ${firstError}\n`)
  lat.sort((a, b) => a - b)
  const us = (ticks: number) => (inWindow ? (ticks * 1e6) / CLK_TCK / inWindow : NaN)
  return {
    offered: rate,
    achieved: inWindow / seconds,
    completed: lat.length,
    failed,
    late,
    loopUs: us(after.loop - before.loop),
    procUs: us(after.proc - before.proc),
    p50: pct(lat, 0.5),
    p90: pct(lat, 0.9),
    p99: pct(lat, 0.99),
  }
}

/** Sequential requests on one connection for `seconds` (closed loop, as `wrk -c1 -t1`). */
async function oneConnection(t: Target, seconds: number): Promise<{ n: number; p50: number; p90: number; p99: number }> {
  const [c] = await connections(t, 1)
  const warmUntil = performance.now() + 500
  while (performance.now() < warmUntil) await c!.send()
  const lat: number[] = []
  const end = performance.now() + seconds * 1000
  while (performance.now() < end) {
    const s = performance.now()
    await c!.send()
    lat.push(performance.now() - s)
  }
  c!.close()
  lat.sort((a, b) => a - b)
  return { n: lat.length, p50: pct(lat, 0.5), p90: pct(lat, 0.9), p99: pct(lat, 0.99) }
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((l) => l[i]!.length)))
  const fmt = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |'
  return [fmt(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(fmt)].join('\n')
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')

export async function runRate(argv: string[]): Promise<void> {
  const o = parseArgs(argv)
  // As `npm start` runs it: Bun's own cap on concurrent upstream fetches off.
  process.env.BUN_CONFIG_MAX_HTTP_REQUESTS ??= '65336'
  const stub = await startProcess([process.execPath, 'scripts/bench-servers.ts', 'stub'])
  // --profile: both servers under `bun --cpu-prof` (DIR/bare, DIR/tollgate), so a share in one can be read against the other.
  const profile = (name: string) => (o.profile ? ['--cpu-prof', `--cpu-prof-dir=${o.profile}/${name}`] : [])
  const bare = await startProcess([process.execPath, ...profile('bare'), 'scripts/bench-servers.ts', 'bare', stub], { BUN_CONFIG_MAX_HTTP_REQUESTS: '65336' })
  const auth = { authorization: `Bearer ${KEY}` }
  const tollgate = await startTollgate(stub, '', { rateLimits: true, bunArgs: o.profile ? profile('tollgate') : undefined })
  const targets: Target[] = [
    { name: 'bare pass-through', url: bare, path: '/openai/chat/completions', headers: {}, pid: pids.get(bare)! },
    { name: 'tollgate', url: tollgate, path: '/openai/chat/completions', headers: auth, pid: pids.get(tollgate)! },
  ]
  for (const dir of o.against?.split(',') ?? []) {
    const other = await startTollgate(stub, '', { rateLimits: true, cwd: dir })
    targets.push({ name: `tollgate (${dir})`, url: other, path: '/openai/chat/completions', headers: auth, pid: pids.get(other)! })
  }
  if (!o.latencyOnly && !o.profile && !o.against) {
    const sink = await startProcess([process.execPath, 'scripts/bench-telemetry.ts', 'sink'])
    const traced = await startTollgate(stub, `[otel]\nendpoint = "${sink}"\nsample_rate = 0.1\n`, { rateLimits: true })
    targets.push({ name: 'tollgate + tracing 0.1', url: traced, path: '/openai/chat/completions', headers: auth, pid: pids.get(traced)! })
  }
  console.log(`load average at start: ${loadavg()}`)

  if (!o.latencyOnly) {
    const results = targets.map(() => [] as RateResult[])
    for (let round = 0; round < o.rounds; round++) {
      // The bare yardstick first, then the rest in an order that rotates each round: no target always follows another.
      const rest = targets.slice(1).map((_, j) => 1 + ((j + round) % (targets.length - 1)))
      for (const i of [0, ...rest]) {
        const t = targets[i]!
        const r = await atRate(t, o.connections, o.rate, o.seconds, o.warmSeconds)
        results[i]!.push(r)
        process.stderr.write(
          `round ${round + 1}/${o.rounds} ${t.name}: ${r.achieved.toFixed(0)} req/s, loop ${r.loopUs.toFixed(1)} µs, process ${r.procUs.toFixed(1)} µs per request, p50/p90/p99 ${r.p50.toFixed(2)}/${r.p90.toFixed(2)}/${r.p99.toFixed(2)} ms, late ${r.late}, load ${loadavg()}\n`,
        )
      }
    }
    const bareRow = results[0]!
    const m = (i: number, k: keyof RateResult) => median(results[i]!.map((r) => r[k]))
    const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '–')
    const rows = targets.map((t, i) => {
      if (!results[i]!.length) return [t.name, '–', '–', '–', '–', '–', '–', '–', '–', '–', '–']
      const ratio = (k: keyof RateResult) => (bareRow.length ? f(m(i, k) / m(0, k), 2) : '–')
      return [t.name, f(m(i, 'achieved'), 0), f(m(i, 'loopUs')), f(m(i, 'procUs')), ratio('loopUs'), ratio('procUs'), f(m(i, 'p50'), 2), f(m(i, 'p90'), 2), f(m(i, 'p99'), 2), String(m(i, 'late')), String(m(i, 'failed'))]
    })
    console.log(`\nOffered ${o.rate} req/s for ${o.seconds} s per cell (after ${o.warmSeconds} s warm-up), ${o.connections} keep-alive connections, median of ${o.rounds} interleaved round(s).`)
    console.log(table(['target', 'achieved req/s', 'loop µs/req', 'process µs/req', 'loop ÷ bare', 'process ÷ bare', 'p50 ms', 'p90 ms', 'p99 ms', 'late sends', 'failed'], rows))
    console.log('Goals (issue 17): process ÷ bare ≤ 1.5, loop ÷ bare ≤ 1.3.')
    // A target behind the schedule is saturated: its CPU per request still holds, its latency is queueing.
    for (const [i, t] of targets.entries()) {
      const behind = results[i]!.filter((r) => r.achieved < 0.95 * r.offered || r.late > 0.05 * r.offered * o.seconds).length
      if (behind) console.log(`note: ${t.name} fell behind the offered ${o.rate} req/s in ${behind} of ${results[i]!.length} round(s) (achieved under 95%, or over 5% of sends late): its latency there is queueing; try a lower --rate (load average now ${loadavg()}).`)
    }
  }

  if (o.latency || o.latencyOnly) {
    const pair = targets.filter((t) => !t.name.includes('tracing'))
    const rows: string[][] = []
    for (let run = 1; run <= 2; run++) {
      for (const t of pair) {
        const r = await oneConnection(t, o.latencySeconds)
        rows.push([`${t.name} (run ${run})`, String(r.n), r.p50.toFixed(3), r.p90.toFixed(3), r.p99.toFixed(3)])
        process.stderr.write(`1 connection, ${t.name}, run ${run}: p50/p90/p99 ${r.p50.toFixed(3)}/${r.p90.toFixed(3)}/${r.p99.toFixed(3)} ms, load ${loadavg()}\n`)
      }
    }
    console.log(`\nOne connection, sequential, ${o.latencySeconds} s per cell, twice.`)
    console.log(table(['target', 'requests', 'p50 ms', 'p90 ms', 'p99 ms'], rows))
    console.log('Goals (issue 17): p99 ≤ bare p99 + 1 ms, p90 ≤ bare p90 + 0.2 ms.')
  }
  console.log(`load average at end: ${loadavg()}`)
}

if (import.meta.main) await runBench(() => runRate(process.argv.slice(2)))
