/**
 * Telemetry for one gateway: the redactor, traces (when a backend is configured), Prometheus
 * metrics, and the per-request log line, composed from config into pipeline hooks and sinks.
 */
import type { Config } from '../config/schema'
import { setErrorScrubber } from '../errors'
import type { RequestHooks } from '../proxy/context'
import type { RequestRecord, RequestSink } from '../proxy/record'
import { fileOutput, RequestLogger, stdoutOutput, type LogOutput } from './logger'
import { GatewayMetrics, startProcessMetrics, type BreakerView } from './metrics'
import { listenMetrics, metricsHandler, type MetricsListener } from './metrics-route'
import { Observer } from './observe'
import { configSecrets, Redactor } from './redact'
import { SpanRecorder } from './spans'
import { createTracing, type Tracing } from './tracing'

export interface TelemetryOptions {
  /** Requests in flight (the proxy's counter), for the gauge. */
  inflight: () => number
  /** Where request log lines go instead of `[logging]`'s stdout or file (tests). */
  logOutput?: LogOutput
}

export interface Telemetry {
  redactor: Redactor
  metrics: GatewayMetrics
  tracing: Tracing | undefined
  logger: RequestLogger | undefined
  /** Hooks to run before any other (they never throw). */
  hooks: RequestHooks[]
  /** Runs before every other sink: scrubs the fields other sinks store (path, model). */
  redactSink: RequestSink
  /** Spans, metrics and the log line; after the request log, once the record is final. */
  sinks: RequestSink[]
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
  // Gateway error messages can echo client input (a model or route name); scrub those too.
  setErrorScrubber(redactor.text)
  let tracing: Tracing | undefined
  const observer = new Observer(
    (project) => tracing?.captureContent(project) ?? false,
    () => tracing !== undefined,
  )
  const metrics = new GatewayMetrics(redactor, observer, opts.inflight)
  tracing = createTracing(config, redactor, metrics)
  const spans = tracing ? new SpanRecorder(tracing, observer) : undefined

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

  const redactSink: RequestSink = {
    record(r: RequestRecord) {
      r.path = redactor.text(r.path)
      if (r.model) r.model = redactor.text(r.model)
      if (r.route) r.route = redactor.text(r.route)
    },
  }

  return {
    redactor,
    metrics,
    tracing,
    logger,
    hooks: [
      observer.hooks,
      ...(spans ? [spans.hooks] : []),
      ...(enabled ? [metrics.hooks] : []),
      {
        // A reload or an admin change may add secrets (keys, provider credentials) and switch content capture.
        configure(next: Config) {
          redactor.setSecrets(configSecrets(next))
          tracing?.configure(next)
          token = next.metrics.token
        },
      },
    ],
    redactSink,
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
