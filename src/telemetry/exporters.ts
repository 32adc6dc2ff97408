/**
 * One trace destination: an OTLP/HTTP exporter (protobuf or JSON) behind a batch processor.
 * Spans wait in a bounded queue and leave in batches on a timer, so no request ever waits on
 * the exporter. A full queue drops the span, a failed or timed-out export drops its batch;
 * both are counted. Every string on a span is redacted on its way out.
 */
import { TraceFlags } from '@opentelemetry/api'
import type { ExportResult } from '@opentelemetry/core'
import { ExportResultCode } from '@opentelemetry/core'
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace'
import type { Redactor } from './redact'

export type DropReason = 'queue_full' | 'export_failed'

/** Where export outcomes are counted (the metrics registry). */
export interface ExportStats {
  exported(spans: number, destination: string): void
  dropped(spans: number, reason: DropReason, destination: string): void
}

export interface DestinationOptions {
  endpoint: string
  headers?: Record<string, string>
  protocol: 'http/protobuf' | 'http/json'
  timeoutMs: number
  /** Spans waiting for export before new ones are dropped. */
  maxQueue?: number
  /** How long a batch may wait before it leaves. */
  delayMs?: number
}

/** `http://host:4318` → `http://host:4318/v1/traces`; a full traces URL stays as it is. */
export function tracesUrl(endpoint: string): string {
  const base = endpoint.replace(/\/+$/, '')
  return base.endsWith('/v1/traces') ? base : `${base}/v1/traces`
}

export function createDestination(name: string, opts: DestinationOptions, redactor: Redactor, stats: ExportStats): SpanProcessor {
  const Exporter = opts.protocol === 'http/json' ? JsonExporter : ProtobufExporter
  const exporter = new Exporter({ url: tracesUrl(opts.endpoint), headers: opts.headers ?? {}, timeoutMillis: opts.timeoutMs, concurrencyLimit: 2 })
  const maxQueue = opts.maxQueue ?? 4096
  const gate = { queued: 0 }
  const batch = new BatchSpanProcessor({
    exporter: new GuardedExporter(exporter, redactor, stats, name, gate),
    maxQueueSize: maxQueue,
    maxExportBatchSize: 512,
    scheduledDelayMillis: opts.delayMs ?? 1000,
    // The exporter gives up first and reports the failure; this only guards against one that never answers.
    exportTimeoutMillis: opts.timeoutMs + 1000,
  })
  return {
    onStart() {},
    onEnd(span) {
      if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return
      // Our own count of the queue, so a drop is seen here and counted (the SDK's is silent).
      if (gate.queued >= maxQueue) return stats.dropped(1, 'queue_full', name)
      gate.queued++
      batch.onEnd(span)
    },
    forceFlush: () => batch.forceFlush(),
    shutdown: () => batch.shutdown(),
  }
}

class GuardedExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly redactor: Redactor,
    private readonly stats: ExportStats,
    private readonly name: string,
    private readonly gate: { queued: number },
  ) {}

  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    this.gate.queued = Math.max(0, this.gate.queued - spans.length)
    for (const s of spans) redactSpan(s, this.redactor)
    let reported = false
    try {
      this.inner.export(spans, (r) => {
        if (reported) return
        reported = true
        if (r.code === ExportResultCode.SUCCESS) this.stats.exported(spans.length, this.name)
        else this.stats.dropped(spans.length, 'export_failed', this.name)
        done(r)
      })
    } catch (e) {
      this.stats.dropped(spans.length, 'export_failed', this.name)
      done({ code: ExportResultCode.FAILED, error: e as Error })
    }
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown()
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve()
  }
}

type Mutable = Record<string, unknown>

/** Redacts the name, every string attribute (and string array item), event attribute and status message. */
function redactSpan(span: ReadableSpan, redactor: Redactor): void {
  // The name can hold client input (a route name from the URL).
  ;(span as unknown as Mutable).name = redactor.text(span.name)
  redactAttributes(span.attributes as Mutable, redactor)
  for (const ev of span.events) if (ev.attributes) redactAttributes(ev.attributes as Mutable, redactor)
  if (span.status.message) (span.status as unknown as Mutable).message = redactor.text(span.status.message)
}

function redactAttributes(attrs: Mutable, redactor: Redactor): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'string') attrs[k] = redactor.text(v)
    else if (Array.isArray(v)) attrs[k] = v.map((x) => (typeof x === 'string' ? redactor.text(x) : x))
  }
}
