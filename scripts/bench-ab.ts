/**
 * `bun scripts/bench-ab.ts <checkout A> <checkout B>`: two Tollgate builds side by side against
 * one stub, with load rounds alternating between them (A B, B A, …) and medians reported. On a
 * shared machine whose speed drifts by a third within a minute, two builds measured a minute
 * apart compare the drift; paired rounds compare the builds. A and B may be the same checkout:
 * that A/A spread is the noise floor (about ±4% on 10-round medians on the 2-core dev machine).
 * Both run `npm run bench`'s Tollgate config (limits on every scope, logging on).
 *
 * RATE=<req/s> offers that fixed load instead of as much as the gateways take, and compares CPU
 * per request: at a rate both keep up with it varies by ±3% between rounds, where saturated
 * throughput varies by ±25%, so it shows changes of a few percent that throughput hides.
 *
 * Env: ROUNDS (10), STREAM=1 (SSE streams), LAT=1 (sequential p50 instead of throughput),
 * EXTRA_TOML (appended to both configs), BENCH_SECONDS / BENCH_WARM_MS as for the bench.
 * CPU per request is the gateway process's (`process_cpu_seconds_total` from its /metrics).
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { KEY, latency, median, paced, startProcess, startTollgate, stopProcesses, throughput, type Target } from './bench'

const ROUNDS = Number(process.env.ROUNDS ?? 10)
const STREAM = process.env.STREAM === '1'
const WARM_MS = Number(process.env.BENCH_WARM_MS ?? 2000)
const RATE = Number(process.env.RATE ?? 0)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)

async function cpuSeconds(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const m = /^process_cpu_seconds_total (\S+)$/m.exec(text)
  if (!m) throw new Error(`${url}/metrics has no process_cpu_seconds_total`)
  return Number(m[1])
}

async function main() {
  const dirs = process.argv.slice(2, 4).map((d) => resolve(d))
  if (dirs.length !== 2) throw new Error('usage: bun scripts/bench-ab.ts <checkout A> <checkout B>')
  for (const cwd of dirs) {
    // A fresh checkout has not built the admin UI that the server embeds (npm start does it first).
    if (!existsSync(join(cwd, 'src/admin/ui-assets.generated.ts')) && Bun.spawnSync([process.execPath, 'scripts/build-ui.ts'], { cwd, stdout: 'ignore' }).exitCode !== 0) {
      throw new Error(`${cwd}: building the admin UI failed (has it run npm install?)`)
    }
  }
  const stub = await startProcess([process.execPath, 'scripts/bench-servers.ts', 'stub'])
  const sides = await Promise.all(
    dirs.map(async (cwd, i) => {
      const url = await startTollgate(stub, process.env.EXTRA_TOML ?? '', { cwd })
      const target: Target = { name: i ? 'B' : 'A', base: `${url}/openai`, headers: { authorization: `Bearer ${KEY}` } }
      return { url, target, values: [] as number[], cpu: [] as number[] }
    }),
  )
  for (const s of sides) await throughput(s.target, STREAM, WARM_MS)
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of round % 2 ? [...sides].reverse() : sides) {
      if (process.env.LAT === '1') {
        s.values.push((await latency(s.target, STREAM)).p50)
        continue
      }
      const before = await cpuSeconds(s.url)
      const started = performance.now()
      let requests: number
      let rps: number
      if (RATE) {
        requests = await paced(s.target, STREAM, RATE, SECONDS)
        rps = (requests * 1000) / (performance.now() - started)
      } else {
        rps = await throughput(s.target, STREAM, 0)
        requests = (rps * (performance.now() - started)) / 1000
      }
      s.values.push(rps)
      s.cpu.push(((await cpuSeconds(s.url)) - before) * 1e6 / requests)
      process.stderr.write(`round ${round + 1}: ${s.target.name} ${rps.toFixed(0)} req/s, ${s.cpu.at(-1)!.toFixed(0)} µs CPU/request\n`)
    }
  }
  const [a, b] = sides as [(typeof sides)[0], (typeof sides)[0]]
  const what = process.env.LAT === '1' ? `${STREAM ? 'ttfb' : 'json'} p50 ms` : `${STREAM ? 'sse' : 'json'} req/s`
  for (const s of sides) console.log(`${s.target.name}: ${what} ${median(s.values).toFixed(process.env.LAT === '1' ? 3 : 0)}${s.cpu.length ? `, ${median(s.cpu).toFixed(1)} µs CPU/request` : ''}  (${dirs[s === a ? 0 : 1]})`)
  // At a fixed rate both serve the same load: what differs is the CPU it took.
  const [ours, theirs] = RATE ? [b.cpu, a.cpu] : [b.values, a.values]
  const paired = ours.map((v, i) => v / theirs[i]!)
  console.log(`B/A${RATE ? ' CPU per request' : ''}: median of paired rounds ${median(paired).toFixed(3)}; rounds ${paired.map((r) => r.toFixed(2)).join(' ')}`)
}

try {
  await main()
} finally {
  await stopProcesses()
  process.exit(0)
}
