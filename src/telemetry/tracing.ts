/**
 * The tracer: one TracerProvider (OpenTelemetry SDK 3.x, no global registration, no
 * auto-instrumentation) whose spans are routed at the end to the global `[otel]` backend
 * and/or their project's own backend. The project is a span attribute, because the server
 * span opens before the key (and so the project) is known.
 */
import { ROOT_CONTEXT, trace, type Context, type Span, type TextMapGetter, type TextMapSetter, type Tracer } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace'
import type { Config } from '../config/schema'
import { VERSION } from '../version'
import { createDestination, type ExportStats } from './exporters'
import type { Redactor } from './redact'

/** The span attribute that routes a span to its project's backend. */
export const PROJECT_ATTR = 'tollgate.project'

/** Longest attribute value exported (message content can be large). */
const MAX_ATTRIBUTE_LENGTH = 128 * 1024

export interface Tracing {
  tracer: Tracer
  /** The parent context from an incoming request's `traceparent`/`tracestate`, or the root. */
  parentFrom(headers: Headers): Context
  /** Writes the span's `traceparent` (and `tracestate`) into outgoing headers, replacing the client's. */
  inject(span: Span, headers: Headers): void
  /** Whether spans of this project carry message content. */
  captureContent(project: string | undefined): boolean
  /** Applies a changed config's content switches (backends apply after a restart). */
  configure(config: Config): void
  flush(): Promise<void>
  shutdown(): Promise<void>
}

const getter: TextMapGetter<Headers> = {
  keys: (h) => [...h.keys()],
  get: (h, k) => h.get(k) ?? undefined,
}
const setter: TextMapSetter<Headers> = { set: (h, k, v) => h.set(k, v) }

/** Builds tracing from config, or undefined when no backend is configured anywhere. */
export function createTracing(config: Config, redactor: Redactor, stats: ExportStats): Tracing | undefined {
  const otel = config.otel
  const destination = (name: string, endpoint: string, headers: Record<string, string> | undefined, protocol = otel.protocol) =>
    createDestination(name, { endpoint, headers, protocol, timeoutMs: otel.timeout_ms }, redactor, stats)

  const global = otel.endpoint ? destination('global', otel.endpoint, otel.headers) : undefined
  const projects = new Map<string, { dest: SpanProcessor; alsoGlobal: boolean }>()
  for (const p of config.projects) {
    if (p.otel?.endpoint) projects.set(p.id, { dest: destination(`project:${p.id}`, p.otel.endpoint, p.otel.headers, p.otel.protocol), alsoGlobal: p.otel.also_global !== false })
  }
  if (!global && !projects.size) return undefined

  const all = [...(global ? [global] : []), ...[...projects.values()].map((p) => p.dest)]
  const router: SpanProcessor = {
    onStart() {},
    onEnd(span) {
      const project = span.attributes[PROJECT_ATTR]
      const own = typeof project === 'string' ? projects.get(project) : undefined
      own?.dest.onEnd(span)
      if (!own || own.alsoGlobal) global?.onEnd(span)
    },
    forceFlush: async () => void (await Promise.allSettled(all.map((d) => d.forceFlush()))),
    shutdown: async () => void (await Promise.allSettled(all.map((d) => d.shutdown()))),
  }

  const rate = otel.sample_rate
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': otel.service_name, 'service.version': VERSION }),
    // New traces are sampled at `sample_rate`; a caller's sampling decision is followed.
    sampler: new ParentBasedSampler({ root: rate >= 1 ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(rate) }),
    spanLimits: { attributeValueLengthLimit: MAX_ATTRIBUTE_LENGTH },
    spanProcessors: [router],
  })
  const propagator = new W3CTraceContextPropagator()
  let capture = new Map<string, boolean>()
  const configure = (c: Config) => (capture = new Map(c.projects.map((p) => [p.id, p.otel?.capture_content ?? otel.capture_content])))
  configure(config)

  return {
    tracer: provider.getTracer('tollgate', VERSION),
    parentFrom: (headers) => propagator.extract(ROOT_CONTEXT, headers, getter),
    inject: (span, headers) => propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, setter),
    captureContent: (project) => (project === undefined ? otel.capture_content : (capture.get(project) ?? otel.capture_content)),
    configure,
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  }
}
