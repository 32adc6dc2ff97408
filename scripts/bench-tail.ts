/**
 * Where the slow tenth at one connection goes (issue 17): sequential requests on one keep-alive
 * connection to the bare pass-through and to Tollgate (the bench-rate config), each request's
 * send time and latency kept, then the distribution and how the slow ones fall in time.
 *   bun scripts/bench-tail.ts [--seconds 6] [--rounds 2] [--warm 1] [--only tollgate] [--out DIR]
 *   bun scripts/bench-tail.ts --attach 'strace -f -tt -T -p {pid} -o /tmp/s.{name}'   # a tool on each target during its cell
 *   bun scripts/bench-tail.ts --env NAME=VALUE[,NAME=VALUE]   # also a Tollgate started with these (a Bun setting to try)
 * `{pid}` in --attach is the target's pid, `{name}` its short name; the tool gets SIGINT when the cell ends.
 * `--per-request` reads the schedstat of the threads a request runs on before and after each
 * request, and splits the slow tenth's extra time into more CPU work and more waiting for a CPU.
 * `--out DIR` writes each cell's requests (ms since start, latency ms) as CSV for a closer look.
 * A benchmark, not a test: it prints and never fails on numbers.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connections } from './bench-rate'
import { KEY, pids, runBench, startProcess, startTollgate } from './bench'

interface Cell {
  name: string
  at: number[]
  lat: number[]
  /** With --per-request: for each request, µs on a CPU and µs waiting for one, of each watched thread. */
  per?: { run: number[]; wait: number[] }[]
  watched?: string[]
  /** Per thread name (threads of one name summed): ns on a CPU, ns runnable but waiting for one, and times switched in, over the cell. */
  sched: Map<string, { run: number; wait: number; slices: number }>
}

/** /proc/<pid>/task/<tid>/schedstat for every thread of `pid`, keyed by tid, with each thread's name. */
function schedstat(pid: number): Map<string, { name: string; run: number; wait: number; slices: number }> {
  const out = new Map<string, { name: string; run: number; wait: number; slices: number }>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const [run, wait, slices] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number)
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()
      out.set(tid, { name: tid === String(pid) ? 'event loop' : name, run: run!, wait: wait!, slices: slices! })
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out
}

const readSched = (path: string): [number, number] => {
  const [run, wait] = readFileSync(path, 'utf8').split(' ')
  return [Number(run), Number(wait)]
}

let stubPid = 0
let perRequest = false

function watchedThreads(pid: number): { name: string; path: string }[] {
  const http = [...schedstat(pid)].find(([, t]) => t.name.startsWith('HTTP Client'))
  return [
    { name: 'target loop', path: `/proc/${pid}/task/${pid}/schedstat` },
    ...(http ? [{ name: 'target HTTP client', path: `/proc/${pid}/task/${http[0]}/schedstat` }] : []),
    { name: 'stub loop', path: `/proc/${stubPid}/task/${stubPid}/schedstat` },
    { name: 'load generator', path: '/proc/thread-self/schedstat' },
  ]
}

/**
 * Splits the slow tenth's extra time (over the median request) into the watched threads' extra
 * time on a CPU and extra time waiting for one; the rest is time none of them was running or
 * runnable (waiting on another thread or process, or on I/O).
 */
function attribute(c: Cell): string {
  const per = c.per!
  const order = per.map((_, i) => i).sort((a, b) => c.lat[a]! - c.lat[b]!)
  // The p85–p95 band (what p90 measures; the top 5% is the p99's business) against the p40–p60 band.
  const band = (lo: number, hi: number) => order.slice(Math.floor(order.length * lo), Math.floor(order.length * hi))
  const tenth = band(0.85, 0.95)
  const middle = band(0.4, 0.6)
  const mean = (idx: number[], f: (i: number) => number) => idx.reduce((a, i) => a + f(i), 0) / idx.length
  const lines = [`  p85–p95 requests vs p40–p60 (mean µs per request): latency ${mean(tenth, (i) => c.lat[i]! * 1e3).toFixed(0)} vs ${mean(middle, (i) => c.lat[i]! * 1e3).toFixed(0)}`]
  for (const [k, name] of c.watched!.entries()) {
    lines.push(
      `    ${name}: on a CPU ${mean(tenth, (i) => per[i]!.run[k]!).toFixed(0)} vs ${mean(middle, (i) => per[i]!.run[k]!).toFixed(0)}, waiting for a CPU ${mean(tenth, (i) => per[i]!.wait[k]!).toFixed(0)} vs ${mean(middle, (i) => per[i]!.wait[k]!).toFixed(0)}`,
    )
  }
  return lines.join('\n')
}

function schedDelta(before: ReturnType<typeof schedstat>, after: ReturnType<typeof schedstat>): Cell['sched'] {
  const by = new Map<string, { run: number; wait: number; slices: number }>()
  for (const [tid, a] of after) {
    const b = before.get(tid) ?? { run: 0, wait: 0, slices: 0 }
    const name = a.name.replace(/[-\d]+$/, '')
    const t = by.get(name) ?? { run: 0, wait: 0, slices: 0 }
    by.set(name, { run: t.run + a.run - b.run, wait: t.wait + a.wait - b.wait, slices: t.slices + a.slices - b.slices })
  }
  return by
}

const argv = process.argv.slice(2)
const val = (name: string) => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : undefined
}
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))]!
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')

async function cell(name: string, url: string, headers: Record<string, string>, seconds: number, warm: number, attach?: string): Promise<Cell> {
  const [c] = await connections({ name, url, path: '/openai/chat/completions', headers, pid: pids.get(url)! }, 1)
  const warmUntil = performance.now() + warm * 1000
  while (performance.now() < warmUntil) await c!.send()
  const tool = attach ? Bun.spawn(['sh', '-c', 'exec ' + attach.replaceAll('{pid}', String(pids.get(url))).replaceAll('{name}', name.split(' ')[0]!)], { stdout: 'inherit', stderr: 'inherit' }) : undefined
  if (tool) await Bun.sleep(1000)
  const at: number[] = []
  const lat: number[] = []
  const pid = pids.get(url)!
  const before = schedstat(pid)
  // The threads a request runs on: the target's event loop and HTTP client, the stub's event loop, and this one.
  const watch = perRequest ? watchedThreads(pid) : []
  const per: { run: number[]; wait: number[] }[] = []
  const t0 = performance.now()
  const end = t0 + seconds * 1000
  while (performance.now() < end) {
    const pre = watch.map((w) => readSched(w.path))
    const s = performance.now()
    await c!.send()
    const e = performance.now()
    at.push(s - t0)
    lat.push(e - s)
    if (perRequest) {
      const post = watch.map((w) => readSched(w.path))
      per.push({ run: post.map((p, i) => (p[0] - pre[i]![0]) / 1e3), wait: post.map((p, i) => (p[1] - pre[i]![1]) / 1e3) })
    }
  }
  const sched = schedDelta(before, schedstat(pid))
  c!.close()
  if (tool) {
    tool.kill('SIGINT')
    // A tool that ignores SIGINT is not waited for past 5 s.
    if (!(await Promise.race([tool.exited.then(() => true), Bun.sleep(5000).then(() => false)]))) tool.kill('SIGKILL')
  }
  return { name, at, lat, sched, per: perRequest ? per : undefined, watched: watch.map((w) => w.name) }
}

function describe(c: Cell): string {
  const sorted = [...c.lat].sort((a, b) => a - b)
  const p90 = pct(sorted, 0.9)
  // Slow = over twice the median: are they alone, or in runs (a stall that holds several requests)?
  const slowAt = 2 * pct(sorted, 0.5)
  let runs = 0
  let inRun = false
  let slow = 0
  for (const l of c.lat) {
    const s = l > slowAt
    if (s) slow++
    if (s && !inRun) runs++
    inRun = s
  }
  const buckets = [0.2, 0.3, 0.4, 0.5, 0.75, 1, 2, 5, Infinity]
  const hist = buckets.map((b, i) => {
    const lo = i ? buckets[i - 1]! : 0
    const n = c.lat.filter((l) => l > lo && l <= b).length
    return `≤${b === Infinity ? '∞' : b}:${((100 * n) / c.lat.length).toFixed(1)}%`
  })
  const n = c.lat.length
  const threads = [...c.sched].filter(([, t]) => t.run > 0).sort((a, b) => b[1].run - a[1].run)
  const perReq = threads.map(([name, t]) => `${name} ${(t.run / 1e3 / n).toFixed(1)}/${(t.wait / 1e3 / n).toFixed(1)}/${(t.slices / n).toFixed(2)}`).join(', ')
  return (
    `${c.name}: ${c.lat.length} requests, p50/p90/p99/max ${pct(sorted, 0.5).toFixed(3)}/${p90.toFixed(3)}/${pct(sorted, 0.99).toFixed(3)}/${sorted.at(-1)!.toFixed(2)} ms; ` +
    `${slow} over 2×p50 (${slowAt.toFixed(3)} ms) in ${runs} runs; ${hist.join(' ')}; load ${loadavg()}\n  per request, by thread: on-CPU µs / waiting-for-a-CPU µs / switches-in: ${perReq}`
  )
}

await runBench(async () => {
  const seconds = Number(val('--seconds') ?? 6)
  const rounds = Number(val('--rounds') ?? 2)
  const warm = Number(val('--warm') ?? 1)
  const only = val('--only')
  const out = val('--out')
  // --env A=1,B=2: a second Tollgate with these in its environment, measured beside the first (a Bun or allocator setting to try).
  const env = Object.fromEntries((val('--env') ?? '').split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
  process.env.BUN_CONFIG_MAX_HTTP_REQUESTS ??= '65336'
  const stub = await startProcess([process.execPath, 'scripts/bench-servers.ts', 'stub'])
  const bare = await startProcess([process.execPath, 'scripts/bench-servers.ts', 'bare', stub])
  stubPid = pids.get(stub)!
  perRequest = argv.includes('--per-request')
  const tollgate = await startTollgate(stub, '', { rateLimits: true })
  // --control US: a bare pass-through that does about US µs of CPU work per request besides (is the tail just more CPU per request?).
  const variant = val('--env') ? await startTollgate(stub, '', { rateLimits: true, env }) : undefined
  const control = val('--control') ? await startProcess([process.execPath, 'scripts/bench-servers.ts', 'bare', stub, val('--control')!]) : undefined
  const targets: { name: string; url: string; headers: Record<string, string> }[] = [
    { name: 'bare pass-through', url: bare, headers: {} as Record<string, string> },
    { name: 'tollgate', url: tollgate, headers: { authorization: `Bearer ${KEY}` } },
    ...(variant ? [{ name: `tollgate+env (${val('--env')})`, url: variant, headers: { authorization: `Bearer ${KEY}` } }] : []),
    ...(control ? [{ name: `control (bare + ${val('--control')} µs of work)`, url: control, headers: {} }] : []),
  ].filter((t) => !only || t.name.includes(only))
  console.log(`pids: stub ${pids.get(stub)}, bare ${pids.get(bare)}, tollgate ${pids.get(tollgate)}; load ${loadavg()}`)
  if (out) mkdirSync(out, { recursive: true })
  for (let round = 1; round <= rounds; round++) {
    for (const t of targets) {
      const c = await cell(t.name, t.url, t.headers, seconds, round === 1 ? warm : 1, val('--attach'))
      console.log(`round ${round} ${describe(c)}`)
      if (c.per) console.log(attribute(c))
      if (out) writeFileSync(join(out, `${t.name.split(' ')[0]}-${round}.csv`), c.at.map((a, i) => `${a.toFixed(3)},${c.lat[i]!.toFixed(4)}`).join('\n') + '\n')
    }
  }
})
