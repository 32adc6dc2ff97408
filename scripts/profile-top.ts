/**
 * The top self-time entries of a `.cpuprofile` (as `bun --cpu-prof` writes it), by function
 * and by file, with each one's share of the sampled time.
 *   bun scripts/profile-top.ts PROFILE.cpuprofile [--top 30] [--since-ms 3000]
 * `--since-ms` skips the first milliseconds of the profile (start-up, JIT warm-up);
 * `--callers TEXT` adds, for the functions whose label holds TEXT, the nearest src/ frame that called them.
 */
import { readFileSync } from 'node:fs'

interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
  children?: number[]
}
interface Profile {
  nodes: Node[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

const ROOT = `${import.meta.dir.replace(/\/scripts$/, '')}/`
/** A frame's file relative to the checkout (Bun writes `file://src/…`, others absolute paths). */
const fileOf = (url: string) => url.replace(/^file:\/\//, '').replace(ROOT, '').replace(/^.*node_modules\//, 'node_modules/') || '(native)'

/** The profiler's sampling interval in µs, as the gaps between samples show it (most gaps are one interval; the rest are longer). */
export function samplingInterval(deltas: number[]): number {
  const d = deltas.filter((x) => x > 0).sort((a, b) => a - b)
  return d.length ? d[Math.floor(d.length * 0.1)]! : 0
}

export function summarise(p: Profile, sinceMs = 0, callersOf?: string): { total: number; byFunction: [string, number][]; byFile: [string, number][]; byRoot: [string, number][]; callers: [string, number][] } {
  const nodes = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const where = (n: Node) => fileOf(n.callFrame.url)
  const label = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${where(n)}:${n.callFrame.lineNumber + 1}`
  const callers = new Map<string, number>()
  const fn = new Map<string, number>()
  const file = new Map<string, number>()
  const top = new Map<string, number>()
  let total = 0
  let t = 0
  // JSC samples only while the thread runs in the VM: an idle loop (or native work outside it)
  // leaves a gap, and weighing a sample by the time until the next one gave the gap to whatever
  // ran last (in a bare pass-through at 20% load, "fetch" had 44% of the time). A sample weighs
  // the time to the next one up to 1.5 sampling intervals (the interval: the 10th percentile of
  // the gaps, close to --cpu-prof-interval), so the total is time spent in the VM.
  const cap = 1.5 * samplingInterval(p.timeDeltas)
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!
    if (t < sinceMs * 1000) continue
    const weight = Math.min(p.timeDeltas[i + 1] ?? 0, cap)
    const n = nodes.get(p.samples[i]!)!
    const key = label(n)
    if (callersOf && key.includes(callersOf)) {
      // The nearest project frame above it: who spends this function's time.
      let id = parent.get(n.id)
      while (id !== undefined && !where(nodes.get(id)!).startsWith('src/')) id = parent.get(id)
      const k = id === undefined ? '(none)' : label(nodes.get(id)!)
      callers.set(k, (callers.get(k) ?? 0) + weight)
    }
    fn.set(key, (fn.get(key) ?? 0) + weight)
    file.set(where(n), (file.get(where(n)) ?? 0) + weight)
    // The outermost project frame on the stack: which part of Tollgate the time is spent under.
    let outer: string | undefined
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const f = nodes.get(id)!
      if (where(f).startsWith('src/')) outer = `${f.callFrame.functionName || '(anonymous)'} ${where(f)}`
    }
    if (outer) top.set(outer, (top.get(outer) ?? 0) + weight)
    total += weight
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1])
  return { total, byFunction: sorted(fn), byFile: sorted(file), byRoot: sorted(top), callers: sorted(callers) }
}

if (import.meta.main) {
  const args = process.argv.slice(2)
  const path = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'))
  if (!path) {
    console.error('usage: bun scripts/profile-top.ts PROFILE.cpuprofile [--top N] [--since-ms MS]')
    process.exit(2)
  }
  const opt = (name: string, d: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d)
  const n = opt('--top', 30)
  const callersOf = args.includes('--callers') ? args[args.indexOf('--callers') + 1] : undefined
  const s = summarise(JSON.parse(readFileSync(path, 'utf8')) as Profile, opt('--since-ms', 0), callersOf)
  const line = ([k, v]: [string, number]) => `${((v / s.total) * 100).toFixed(1).padStart(5)}%  ${(v / 1000).toFixed(0).padStart(6)} ms  ${k}`
  console.log(`sampled ${(s.total / 1000).toFixed(0)} ms in the VM (idle and time outside the VM are not sampled)\n\nself time by function:`)
  for (const e of s.byFunction.slice(0, n)) console.log(line(e))
  console.log('\nself time by file:')
  for (const e of s.byFile.slice(0, Math.ceil(n / 2))) console.log(line(e))
  console.log('\ntime under the outermost src/ frame:')
  for (const e of s.byRoot.slice(0, Math.ceil(n / 2))) console.log(line(e))
  if (callersOf) {
    console.log(`\n"${callersOf}" called from:`)
    for (const e of s.callers.slice(0, n)) console.log(line(e))
  }
}
