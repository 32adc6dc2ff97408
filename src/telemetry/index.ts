/**
 * Telemetry for one gateway: the redactor, traces (when a backend is configured), Prometheus
 * metrics, and the per-request log line, composed from config into the pipeline's tracing
 * steps and observers of finished requests.
 */
import type { Config } from '../config/schema'
import type { TracingSteps } from '../proxy/pipeline'
import type { RequestSink } from '../proxy/record'
import { fileOutput, RequestLogger, stdoutOutput, type LogOutput } from './logger'
import { GatewayMetrics, startProcessMetrics, type BreakerView } from './metrics'
import { listenMetrics, metricsHandler, type MetricsListener } from './metrics-route'
import { configSecrets, Redactor } from './redact'
import { SpanRecorder } from './spans'
import { createTracing, type Tracing } from './tracing'

export interface TelemetryOptions {
  /** Requests in flight and streams being relayed (the pipeline's counters), for the gauges. */
  inflight: () => number
  openStreams: () => number
  /** Where request log lines go instead of `[logging]`'s stdout or file (tests). */
  logOutput?: LogOutput
}

export interface Telemetry {
  redactor: Redactor
  metrics: GatewayMetrics
  tracing: Tracing | undefined
  logger: RequestLogger | undefined
  /** What the pipeline calls as it goes: spans open, content capture; nothing when tracing is off. */
  tracingSteps: TracingSteps
  /** Spans, metrics and the log line; after the request log, once the record is final. */
  sinks: RequestSink[]
  /** A reload or an admin change: new secrets to redact, content capture, the metrics token. */
  configure(next: Config): void
  /** The `/metrics` answer, or undefined when metrics are off. */
  serveMetrics: ((request: Request) => Promise<Response>) | undefined
  /** Whether the main listener serves `/metrics` (no separate `[metrics] listen`). */
  metricsOnMain: boolean
  setBreakerSource(source: () => Iterable<BreakerView>): void
  /** Starts the separate metrics listener, when configured. */
  listenMetrics(): MetricsListener | undefined
  /** Sends queued spans and log lines now. */
  flush(): Promise<void>
  /** Flushes and stops: bounded by `[otel] timeout_ms` when a backend does not answer. */
  close(): Promise<void>
}

export function createTelemetry(config: Config, opts: TelemetryOptions): Telemetry {
  const redactor = new Redactor(configSecrets(config))
  const metrics = new GatewayMetrics(redactor, opts.inflight, opts.openStreams)
  const tracing: Tracing | undefined = createTracing(config, redactor, metrics)
  const spans = tracing ? new SpanRecorder(tracing) : undefined
  const tracingSteps: TracingSteps = spans ?? { begin() {}, admitted: () => false, attempt() {}, describes: false }

  const log = config.logging
  const logger =
    log.level === 'off'
      ? undefined
      : new RequestLogger(log, redactor, opts.logOutput ?? (log.file ? fileOutput(log.file) : stdoutOutput()), (n) => metrics.logLinesDropped.inc(n))

  const enabled = config.metrics.enabled
  if (enabled) startProcessMetrics()
  let token = config.metrics.token
  const serveMetrics = enabled ? metricsHandler(metrics, () => token) : undefined
  let listener: MetricsListener | undefined

  return {
    redactor,
    metrics,
    tracing,
    logger,
    tracingSteps,
    configure(next: Config) {
      // A reload or an admin change may add secrets (keys, provider credentials) and switch content capture.
      redactor.setSecrets(configSecrets(next))
      tracing?.configure(next)
      token = next.metrics.token
    },
    sinks: [...(spans ? [spans] : []), ...(enabled ? [metrics] : []), ...(logger ? [logger] : [])],
    serveMetrics,
    metricsOnMain: enabled && !config.metrics.listen,
    setBreakerSource: (s) => metrics.setBreakerSource(s),
    listenMetrics() {
      if (!serveMetrics || !config.metrics.listen || listener) return listener
      return (listener = listenMetrics(config.metrics.listen, serveMetrics))
    },
    async flush() {
      await Promise.all([tracing?.flush(), logger?.flush()])
    },
    async close() {
      await Promise.allSettled([tracing?.shutdown(), logger?.close(), listener?.stop()])
    },
  }
}
