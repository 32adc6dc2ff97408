/**
 * Prometheus metrics (prom-client): one registry per gateway, filled by an observer of finished
 * requests, rendered at `/metrics`. Labels are bounded (LabelGuard): provider, route, model,
 * status class, project, scope; never key ids or request ids. What is updated per request
 * uses the cheaper FastCounter/FastHistogram (series.ts), rendered by the same registry.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { FinishedExchange } from '../proxy/exchange'
import type { RequestRecord, RequestSink } from '../proxy/record'
import { VERSION } from '../version'
import type { DropReason, ExportStats } from './exporters'
import { LabelGuard, statusClass } from './labels'
import { limitDecision } from './limits'
import type { Redactor } from './redact'
import { FastCounter, FastHistogram } from './series'

/** What the failover engineer's breakers report: `state` is closed, half_open or open. */
export interface BreakerView {
  provider: string
  state: string
}

const BREAKER_STATES = ['closed', 'half_open', 'open']
const TOKEN_TYPES = [
  ['input', 'input_tokens'],
  ['output', 'output_tokens'],
  ['cache_read', 'cache_read_tokens'],
  ['cache_write', 'cache_write_tokens'],
] as const

/** statusClass() per status, so the hot path does not build a new string per request. */
const STATUS_CLASSES = Array.from({ length: 600 }, (_, s) => statusClass(s))

let processRegistry: Registry | undefined
/**
 * Process metrics are per process, not per gateway: one registry, created once. Its event-loop
 * lag monitor samples every 10 ms, so it starts only with metrics on (`startProcessMetrics`),
 * never in a gateway that will not be scraped.
 */
export function startProcessMetrics(): void {
  // Its set-up reads heap statistics (~15 ms): not before the first /health answers. A scrape
  // before then starts it at once (render()).
  setTimeout(processMetrics, 500).unref()
}

function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

export class GatewayMetrics implements RequestSink, ExportStats {
  readonly registry = new Registry()
  readonly labels: LabelGuard
  private breakers: () => Iterable<BreakerView> = () => []

  // Per request (and per failed attempt): the fast series, label values in labelNames order.
  private readonly requests: FastCounter
  private readonly duration: FastHistogram
  private readonly ttfb: FastHistogram
  private readonly overhead: FastHistogram
  private readonly tokens: FastCounter
  private readonly cost: FastCounter
  private readonly unpriced: FastCounter
  private readonly limitRejections: FastCounter
  private readonly failovers: FastCounter
  private readonly upstreamErrors: FastCounter
  private readonly spansExported: Counter
  private readonly spansDropped: Counter
  readonly logLinesDropped: Counter

  constructor(
    redactor: Redactor,
    inflight: () => number,
    /** Streams being relayed (the pipeline's count), read at scrape time. */
    openStreams: () => number,
  ) {
    this.labels = new LabelGuard(redactor)
    const registers = [this.registry]
    const counter = (name: string, help: string, labelNames: string[] = []) => new Counter({ name, help, labelNames, registers })
    const fastCounter = (name: string, help: string, labelNames: string[]) => new FastCounter({ name, help, labelNames, registers })
    const fastHistogram = (name: string, help: string, labelNames: string[], buckets: number[]) => new FastHistogram({ name, help, labelNames, buckets, registers })

    this.requests = fastCounter('tollgate_requests_total', 'Client requests by provider, route, model, status class and project.', ['provider', 'route', 'model', 'status_class', 'project'])
    this.duration = fastHistogram('tollgate_request_duration_seconds', 'Whole request, to the last byte of the response.', ['provider', 'route', 'status_class'], [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300])
    this.ttfb = fastHistogram('tollgate_time_to_first_byte_seconds', 'Request start to the first response byte from upstream.', ['provider', 'route', 'stream'], [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30])
    this.overhead = fastHistogram('tollgate_gateway_overhead_seconds', "The gateway's own time: total minus time spent on upstream attempts.", ['provider'], [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1])
    this.tokens = fastCounter('tollgate_tokens_total', 'Tokens reported by providers, by type (input includes cached input).', ['project', 'provider', 'model', 'type'])
    this.cost = fastCounter('tollgate_cost_usd_total', 'Cost of requests in USD.', ['project', 'provider', 'model'])
    this.unpriced = fastCounter('tollgate_unpriced_requests_total', 'Requests with usage but no price (unknown model, allowed by pricing.unknown_model).', ['project', 'provider', 'model'])
    this.limitRejections = fastCounter('tollgate_limit_rejections_total', 'Requests refused by a spend limit, by the scope that bound.', ['scope'])
    this.failovers = fastCounter('tollgate_failovers_total', 'Attempts after which the gateway moved on to the next target, by the provider that failed.', ['provider'])
    this.upstreamErrors = fastCounter('tollgate_upstream_errors_total', 'Failed upstream attempts by provider and type (connect, timeouts, upstream_<status>, …).', ['provider', 'type'])
    new Gauge({ name: 'tollgate_open_streams', help: 'Streamed responses being relayed now.', registers, collect() {
      this.set(openStreams())
    } })
    this.spansExported = counter('tollgate_otel_spans_exported_total', 'Spans accepted by an OTLP backend.', ['destination'])
    this.spansDropped = counter('tollgate_otel_spans_dropped_total', 'Spans lost: export queue full, or the backend failed or timed out.', ['destination', 'reason'])
    this.logLinesDropped = counter('tollgate_log_lines_dropped_total', 'Request log lines dropped because the log output could not keep up.')
    new Gauge({ name: 'tollgate_inflight_requests', help: 'Requests admitted and not yet finished (streams included).', registers, collect() {
      this.set(inflight())
    } })
    const breakers = () => this.breakers()
    new Gauge({
      name: 'tollgate_circuit_breaker_state',
      help: 'Circuit breaker state per provider: 1 for the current state (closed, half_open, open), 0 otherwise.',
      labelNames: ['provider', 'state'],
      registers,
      collect() {
        this.reset()
        for (const b of breakers()) for (const s of BREAKER_STATES) this.set({ provider: b.provider, state: s }, b.state === s ? 1 : 0)
      },
    })
    new Gauge({ name: 'tollgate_build_info', help: 'Tollgate version.', labelNames: ['version'], registers }).set({ version: VERSION }, 1)
  }

  /** Where breaker states come from (the proxy's breaker registry, once it has one). */
  setBreakerSource(source: () => Iterable<BreakerView>): void {
    this.breakers = source
  }

  record(r: Readonly<RequestRecord>, x: FinishedExchange): void {
    // Upstream time: every try sent, from its start to its outcome; the one that answered until the end.
    let upstreamMs = 0
    let last: string | undefined
    for (const a of x.attempts ?? []) {
      if (a.url === undefined) continue
      const p = this.labels.value('provider', a.provider.id)
      if (a.failedOver) this.failovers.inc([p])
      if (a.error && a.error !== 'client_disconnected') this.upstreamErrors.inc([p, this.labels.value('error_type', a.error)])
      upstreamMs += Math.max(0, (a.failedOver || a.error ? a.end : x.start + r.durationMs) - a.start)
      last = a.provider.id
    }
    const provider = this.labels.value('provider', last ?? r.provider)
    // Route names come from the URL; an unknown one is not worth a series of its own.
    const route = this.labels.value('route', r.error === 'unknown_route' ? 'unknown' : r.route)
    const model = this.labels.value('model', r.usage?.model ?? r.model)
    const project = this.labels.value('project', r.project)
    const status = STATUS_CLASSES[r.status] ?? statusClass(r.status)

    this.requests.inc([provider, route, model, status, project])
    this.duration.observe([provider, route, status], r.durationMs / 1000)
    if (r.ttfbMs !== undefined) this.ttfb.observe([provider, route, String(r.stream)], r.ttfbMs / 1000)
    if (last) this.overhead.observe([provider], Math.max(0, r.durationMs - upstreamMs) / 1000)

    const t = r.usage?.tokens
    if (t) {
      for (const [type, key] of TOKEN_TYPES) {
        const n = t[key]
        if (typeof n === 'number' && n > 0) this.tokens.inc([project, provider, model, type], n)
      }
      if (r.costNanos === undefined) this.unpriced.inc([project, provider, model])
    }
    if (r.costNanos !== undefined && r.costNanos > 0) this.cost.inc([project, provider, model], r.costNanos / 1e9)
    const limit = limitDecision(r)
    if (limit?.decision === 'rejected') this.limitRejections.inc([this.labels.value('scope', limit.scope ?? 'unknown')])
  }

  exported(spans: number, destination: string): void {
    this.spansExported.inc({ destination }, spans)
  }

  dropped(spans: number, reason: DropReason, destination: string): void {
    this.spansDropped.inc({ destination, reason }, spans)
  }

  /** The Prometheus text exposition: this gateway's metrics, then the process's. */
  async render(): Promise<string> {
    const [own, proc] = await Promise.all([this.registry.metrics(), processMetrics().metrics()])
    return `${own}\n${proc}`
  }

  contentType(): string {
    return this.registry.contentType
  }
}
