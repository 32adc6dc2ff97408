/**
 * The fast counters and histograms render exactly what prom-client's own would: the same random
 * observations go into a prom-client Counter/Histogram in one registry and into FastCounter/
 * FastHistogram in another, and the exposition texts (and JSON) must be identical.
 */
import { describe, expect, test } from 'bun:test'
import { Counter, Histogram, Registry } from 'prom-client'
import { FastCounter, FastHistogram } from '../../src/telemetry/series'
import { seededRandom } from '../support/random'

// Values that need escaping, look like separators, or are empty. (No ",": prom-client's own
// hash would merge some label sets containing it, which the fast series rightly keep apart.)
const LABEL_VALUES = ['openai', 'anthropic', 'gpt-4o-mini-2024-07-18', '', 'a"b', 'back\\slash', 'new\nline', 'x:y', 'sep\u0001arated', 'ünï', 'none']
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5, 300]
const COUNTER_AMOUNTS = [undefined, 0, 1, 2, 12, 0.1, 0.2, 7200 / 1e9, 123456789 / 1e9, 1e-12, 1e21, 0.5]

interface Pair {
  prom: Registry
  fast: Registry
  pc: Counter[]
  fc: FastCounter[]
  ph: Histogram[]
  fh: FastHistogram[]
  /** The same operation on both sides. */
  inc(metric: number, values: string[], by?: number): void
  observe(metric: number, values: string[], v: number): void
}

const COUNTERS = [
  { name: 'test_requests_total', help: 'Requests "by" labels \\ and\nmore.', labelNames: ['provider', 'route', 'model', 'status_class', 'project'] },
  { name: 'test_scope_total', help: 'One label.', labelNames: ['scope'] },
  { name: 'test_plain_total', help: 'No labels.', labelNames: [] },
]
const HISTOGRAMS = [
  { name: 'test_duration_seconds', help: 'Durations.', labelNames: ['provider', 'route', 'status_class'], buckets: BUCKETS },
  { name: 'test_overhead_seconds', help: 'One label.', labelNames: ['provider'], buckets: [0.025, 0.05, 0.1] },
  { name: 'test_plain_seconds', help: 'No labels.', labelNames: [], buckets: [1, 2, 5] },
]

function pair(contentType?: string): Pair {
  const prom = new Registry()
  const fast = new Registry()
  if (contentType) for (const r of [prom, fast]) r.setContentType(contentType as never)
  const pc: Counter[] = []
  const fc: FastCounter[] = []
  const ph: Histogram[] = []
  const fh: FastHistogram[] = []
  // Interleaved, so both registries hold the metrics in the same order.
  for (let i = 0; i < 3; i++) {
    pc.push(new Counter({ ...COUNTERS[i]!, registers: [prom] }))
    fc.push(new FastCounter({ ...COUNTERS[i]!, registers: [fast] }))
    ph.push(new Histogram({ ...HISTOGRAMS[i]!, registers: [prom] }))
    fh.push(new FastHistogram({ ...HISTOGRAMS[i]!, registers: [fast] }))
  }
  const obj = (names: string[], values: string[]) => Object.fromEntries(names.map((n, i) => [n, values[i]!]))
  return {
    prom,
    fast,
    pc,
    fc,
    ph,
    fh,
    inc(m, values, by) {
      const names = COUNTERS[m]!.labelNames
      if (names.length) pc[m]!.inc(obj(names, values), by as number)
      else pc[m]!.inc(by as number)
      fc[m]!.inc(values, by)
    },
    observe(m, values, v) {
      const names = HISTOGRAMS[m]!.labelNames
      if (names.length) ph[m]!.observe(obj(names, values), v)
      else ph[m]!.observe(v)
      fh[m]!.observe(values, v)
    },
  }
}

/** A value on, just below, or just above a bucket bound, or anywhere (negative, zero, past the last). */
function histogramValue(next: () => number): number {
  const b = BUCKETS[Math.floor(next() * BUCKETS.length)]!
  switch (Math.floor(next() * 6)) {
    case 0:
      return b
    case 1:
      return b - Number.EPSILON * b
    case 2:
      return b + Number.EPSILON * b
    case 3:
      return [0, -0, -1, 1e9, 300, 300.0000001][Math.floor(next() * 6)]!
    case 4:
      return Math.round(next() * 400_000) / 1000
    default:
      return next() * 2
  }
}

function feed(p: Pair, seed: number, n: number): void {
  const next = seededRandom(seed)
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!
  // A handful of label sets per metric, reused, as real traffic does.
  const combos = (k: number) => Array.from({ length: 6 }, () => Array.from({ length: k }, () => pick(LABEL_VALUES)))
  const counterSets = COUNTERS.map((c) => combos(c.labelNames.length))
  const histogramSets = HISTOGRAMS.map((h) => combos(h.labelNames.length))
  for (let i = 0; i < n; i++) {
    const m = Math.floor(next() * 3)
    if (next() < 0.5) p.inc(m, pick(counterSets[m]!), pick(COUNTER_AMOUNTS))
    else p.observe(m, pick(histogramSets[m]!), histogramValue(next))
  }
}

describe.each([
  ['Prometheus text', Registry.PROMETHEUS_CONTENT_TYPE],
  ['OpenMetrics', Registry.OPENMETRICS_CONTENT_TYPE],
])('fast series render like prom-client (%s)', (_name, contentType) => {
  test('before any observation', async () => {
    const p = pair(contentType)
    expect(await p.fast.metrics()).toBe(await p.prom.metrics())
  })

  for (const seed of [1, 2, 3, 42, 20240718]) {
    test(`random observations, seed ${seed}`, async () => {
      const p = pair(contentType)
      feed(p, seed, 3000)
      const text = await p.prom.metrics()
      expect(text).toContain('le="+Inf"')
      expect(text).toContain('_sum{')
      expect(await p.fast.metrics()).toBe(text)
      expect(await p.fast.getMetricsAsJSON()).toEqual(await p.prom.getMetricsAsJSON())
    })
  }

  test('after a reset', async () => {
    const p = pair(contentType)
    feed(p, 7, 500)
    p.prom.resetMetrics()
    p.fast.resetMetrics()
    expect(await p.fast.metrics()).toBe(await p.prom.metrics())
    feed(p, 8, 500)
    expect(await p.fast.metrics()).toBe(await p.prom.metrics())
  })
})

test('the comparison notices a single difference', async () => {
  const p = pair()
  feed(p, 9, 500)
  p.inc(1, ['project'], 1)
  p.observe(1, ['openai'], 0.05)
  expect(await p.fast.metrics()).toBe(await p.prom.metrics())
  // A counter off by a nano-dollar.
  p.fc[1]!.inc(['project'], 1e-9)
  expect(await p.fast.metrics()).not.toBe(await p.prom.metrics())

  // The same value on either side of a bound: only that bucket (and the sum) differ.
  const q = pair()
  q.ph[1]!.observe({ provider: 'openai' }, 0.05)
  q.fh[1]!.observe(['openai'], 0.05 + Number.EPSILON)
  const [prom, fast] = [await q.prom.metrics(), await q.fast.metrics()]
  expect(fast).not.toBe(prom)
  const differing = fast.split('\n').filter((l, i) => l !== prom.split('\n')[i])
  expect(differing).toEqual(['test_overhead_seconds_bucket{le="0.05",provider="openai"} 0', 'test_overhead_seconds_sum{provider="openai"} 0.050000000000000225'])
})

test('label values are positional and must all be given', () => {
  const c = new FastCounter({ name: 'c_total', help: 'c', labelNames: ['a', 'b'] })
  expect(() => c.inc(['x'])).toThrow(/2 label values/)
  const h = new FastHistogram({ name: 'h', help: 'h', labelNames: ['a'], buckets: [1] })
  expect(() => h.observe([], 1)).toThrow(/1 label values/)
})

test('invalid values are refused as prom-client refuses them, leaving the series unchanged', async () => {
  const p = pair()
  p.inc(1, ['project'], 1)
  p.observe(1, ['openai'], 0.03)
  const [c, h] = [p.fc[1]!, p.fh[1]!]
  expect(() => c.inc(['project'], -1)).toThrow('It is not possible to decrease a counter')
  expect(() => c.inc(['project'], Infinity)).toThrow(TypeError)
  expect(() => h.observe(['openai'], Number.NaN)).toThrow(TypeError)
  expect(() => h.observe(['openai'], Infinity)).toThrow(TypeError)
  expect(await p.fast.metrics()).toBe(await p.prom.metrics())
})

test('metric and bucket definitions are checked', () => {
  expect(() => new FastCounter({ name: 'bad-name', help: 'x' })).toThrow(/Invalid metric name/)
  expect(() => new FastCounter({ name: 'ok', help: 'x', labelNames: ['bad-label'] })).toThrow(/Invalid label name/)
  expect(() => new FastHistogram({ name: 'h', help: 'x', labelNames: ['le'], buckets: [1] })).toThrow(/reserved/)
  expect(() => new FastHistogram({ name: 'h', help: 'x', buckets: [1, 0.5] })).toThrow(/increasing/)
  const r = new Registry()
  new FastCounter({ name: 'dup_total', help: 'x', registers: [r] })
  expect(() => new Counter({ name: 'dup_total', help: 'x', registers: [r] })).toThrow(/already been registered/)
})
