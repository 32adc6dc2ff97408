/**
 * Counters and histograms for the per-request path, rendered by a prom-client Registry.
 *
 * prom-client's own `inc(labels)` / `observe(labels, v)` validate the labels object and build a
 * hash string from its sorted keys on every call. These take the label values positionally, in
 * `labelNames` order, and reach the series through one Map per label: no key string to build,
 * and no separator that a client-chosen value (a model name) could contain. `get()` and
 * `getForPromString()` return what prom-client's Counter and Histogram return, so the
 * exposition text is the same.
 */
import type { Metric, Registry } from 'prom-client'

type Labels = Record<string, string>

interface SeriesOptions {
  name: string
  help: string
  labelNames?: readonly string[]
  registers?: Registry[]
}

// The same checks as prom-client's Metric constructor.
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** Series by label values, kept in creation order (prom-client renders them in that order). */
class SeriesIndex<S> {
  private root = new Map<string, unknown>()
  private only: S | undefined
  all: S[] = []

  constructor(
    private readonly labelNames: readonly string[],
    private readonly create: (labels: Labels) => S,
  ) {
    this.reset(true)
  }

  get(values: readonly string[]): S {
    const n = this.labelNames.length
    if (values.length !== n) throw new Error(`Expected ${n} label values (${this.labelNames.join(', ')}), got ${values.length}`)
    if (n === 0) return this.only ?? this.seed()
    let map = this.root
    for (let i = 0; i < n - 1; i++) {
      let next = map.get(values[i]!) as Map<string, unknown> | undefined
      if (!next) map.set(values[i]!, (next = new Map()))
      map = next
    }
    let series = map.get(values[n - 1]!) as S | undefined
    if (!series) {
      const labels: Labels = {}
      for (let i = 0; i < n; i++) labels[this.labelNames[i]!] = values[i]!
      map.set(values[n - 1]!, (series = this.create(labels)))
      this.all.push(series)
    }
    return series
  }

  /**
   * Like prom-client, a metric without labels shows its one series, at zero, from the start;
   * after a reset only a counter does (prom-client's Histogram.reset leaves it out).
   */
  reset(seed: boolean): void {
    this.root = new Map()
    this.all = []
    this.only = undefined
    if (seed && this.labelNames.length === 0) this.seed()
  }

  private seed(): S {
    this.all.push((this.only = this.create({})))
    return this.only
  }
}

abstract class SeriesMetric<S> {
  abstract readonly type: 'counter' | 'histogram'
  readonly name: string
  readonly help: string
  readonly labelNames: readonly string[]
  readonly aggregator = 'sum'
  protected readonly index: SeriesIndex<S>

  constructor(opts: SeriesOptions, create: (labels: Labels) => S) {
    this.name = opts.name
    this.help = opts.help
    this.labelNames = [...(opts.labelNames ?? [])]
    if (!this.help) throw new Error('Missing mandatory help parameter')
    if (!METRIC_NAME.test(this.name)) throw new Error(`Invalid metric name: ${this.name}`)
    for (const l of this.labelNames) if (!LABEL_NAME.test(l)) throw new Error(`Invalid label name: ${l}`)
    if (new Set(this.labelNames).size !== this.labelNames.length) throw new Error(`Duplicate label name in ${this.name}`)
    this.index = new SeriesIndex(this.labelNames, create)
    for (const r of opts.registers ?? []) r.registerMetric(this as unknown as Metric)
  }

  reset(): void {
    this.index.reset(this.type === 'counter')
  }
}

interface CounterSeries {
  labels: Labels
  value: number
}

export class FastCounter extends SeriesMetric<CounterSeries> {
  readonly type = 'counter'

  constructor(opts: SeriesOptions) {
    super(opts, (labels) => ({ labels, value: 0 }))
  }

  /** Adds `by` (default 1) to the series of these label values, given in `labelNames` order. */
  inc(values: readonly string[], by = 1): void {
    if (!Number.isFinite(by)) throw new TypeError(`Value is not a valid number: ${by}`)
    if (by < 0) throw new Error('It is not possible to decrease a counter')
    this.index.get(values).value += by
  }

  /** What prom-client's Counter.get() returns. */
  async get() {
    return {
      help: this.help,
      name: this.name,
      type: this.type,
      values: this.index.all.map((s) => ({ value: s.value, labels: s.labels })),
      aggregator: this.aggregator,
    }
  }
}

interface HistogramSeries {
  labels: Labels
  /** Observations per bucket (not cumulative); above the last bound they are only counted. */
  buckets: Float64Array
  sum: number
  count: number
}

interface HistogramValue {
  labels: Record<string, string | number>
  sharedLabels: Labels
  value: number
  metricName: string
  /** prom-client sets it (null without exemplars) on bucket values; kept so get() matches. */
  exemplar?: null
}

export class FastHistogram extends SeriesMetric<HistogramSeries> {
  readonly type = 'histogram'
  readonly upperBounds: readonly number[]

  constructor(opts: SeriesOptions & { buckets: readonly number[] }) {
    const bounds = [...opts.buckets]
    super(opts, (labels) => ({ labels, buckets: new Float64Array(bounds.length), sum: 0, count: 0 }))
    if (this.labelNames.includes('le')) throw new Error('le is a reserved label keyword')
    // The bucket search stops at the first bound >= v, which needs them in order.
    for (let i = 1; i < bounds.length; i++) if (!(bounds[i]! > bounds[i - 1]!)) throw new Error(`Histogram ${this.name}: buckets must be strictly increasing`)
    this.upperBounds = bounds
  }

  /** Records `v` in the series of these label values, given in `labelNames` order. */
  observe(values: readonly string[], v: number): void {
    if (!Number.isFinite(v)) throw new TypeError(`Value is not a valid number: ${v}`)
    const s = this.index.get(values)
    const bounds = this.upperBounds
    for (let i = 0; i < bounds.length; i++) {
      if (v <= bounds[i]!) {
        s.buckets[i]!++
        break
      }
    }
    s.sum += v
    s.count += 1
  }

  /**
   * What prom-client's Histogram.getForPromString() returns: per series, the cumulative
   * buckets with `le`, then +Inf, `_sum` and `_count`, the series' labels as sharedLabels.
   */
  async getForPromString() {
    const bucket = `${this.name}_bucket`
    const values: HistogramValue[] = []
    for (const s of this.index.all) {
      let acc = 0
      for (let i = 0; i < this.upperBounds.length; i++) {
        acc += s.buckets[i]!
        values.push({ labels: { le: this.upperBounds[i]! }, sharedLabels: s.labels, value: acc, metricName: bucket, exemplar: null })
      }
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket, exemplar: null },
        { labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` },
      )
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }

  /** What prom-client's Histogram.get() returns: as above, with the series' labels after `le`. */
  async get() {
    const data = await this.getForPromString()
    return {
      ...data,
      values: data.values.map(({ labels, sharedLabels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } })),
    }
  }
}
