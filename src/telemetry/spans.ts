/**
 * Spans for each request: one SERVER span (parent: the incoming `traceparent`), and one
 * CLIENT span per upstream attempt, failovers included, whose `traceparent` goes upstream.
 * The server span carries the GenAI attributes, usage and cost beside the gateway's own
 * (project, user, key id, route, limit decision); attempt spans carry the attempt's provider,
 * status and outcome. The successful attempt stays open until the response body ends.
 * Spans end in the sink, after the settle hooks have priced the request.
 */
import { SpanKind, SpanStatusCode, ROOT_CONTEXT, trace, type Attributes, type Span } from '@opentelemetry/api'
import type { RequestHooks } from '../proxy/context'
import type { RequestRecord, RequestSink } from '../proxy/record'
import { providerName, requestAttributes, responseAttributes, usageAttributes } from './genai-attributes'
import type { GenAiInput, GenAiMessage } from '../providers/types'
import { limitDecision } from './limits'
import { telemetryOf, type Observer } from './observe'
import { PROJECT_ATTR, type Tracing } from './tracing'

interface RequestSpans {
  server: Span
  attempts: Map<number, Span>
  /** The attempt that answered (kept open until the body ends). */
  open?: Span
}

export class SpanRecorder implements RequestSink {
  private readonly spans = new WeakMap<RequestRecord, RequestSpans>()

  constructor(
    private readonly tracing: Tracing,
    private readonly observer: Observer,
  ) {}

  readonly hooks: RequestHooks = {
    start: (request, record) => {
      const server = this.tracing.tracer.startSpan(
        `${record.method} ${record.route ?? ''}`.trim(),
        {
          kind: SpanKind.SERVER,
          attributes: { 'http.request.method': record.method, 'url.path': record.path, 'tollgate.request_id': record.id },
        },
        this.tracing.parentFrom(request.headers),
      )
      this.spans.set(record, { server, attempts: new Map() })
    },
    admit: (ctx) => {
      const s = this.spans.get(ctx.record)
      if (!s || !s.server.isRecording()) return
      const format = telemetryOf(ctx)
      const json = ctx.inbound.json
      s.server.setAttributes({ [PROJECT_ATTR]: ctx.key.project, ...requestAttributes(json && format?.request(json), ctx.classification) })
      if (json && format && this.observer.get(ctx.record)?.capture) s.server.setAttributes(contentAttributes(format.input(json)))
    },
    attempt: (ctx, attempt) => {
      const s = this.spans.get(ctx.record)
      if (!s) return
      const op = ctx.upstream.operation
      const model = ctx.upstream.model
      const url = safeUrl(attempt.url)
      const span = this.tracing.tracer.startSpan(
        spanName(op, model) ?? `${attempt.provider.id} attempt`,
        {
          kind: SpanKind.CLIENT,
          attributes: compact({
            'gen_ai.operation.name': op,
            'gen_ai.provider.name': providerName(attempt.provider.api),
            'gen_ai.request.model': model,
            'server.address': url?.hostname,
            'server.port': url ? Number(url.port || (url.protocol === 'https:' ? 443 : 80)) : undefined,
            'tollgate.provider': attempt.provider.id,
            'tollgate.attempt': attempt.n,
            [PROJECT_ATTR]: ctx.key.project,
          }),
        },
        trace.setSpan(ROOT_CONTEXT, s.server),
      )
      s.attempts.set(attempt.n, span)
      // With tracing on, the upstream sees this attempt as its parent (not the client's span).
      this.tracing.inject(span, attempt.headers)
      return (outcome) => {
        span.setAttributes(compact({ 'http.response.status_code': outcome.status || undefined, 'error.type': outcome.error, 'tollgate.failed_over': outcome.failedOver }))
        if (outcome.error || outcome.failedOver || outcome.status >= 400) {
          if (outcome.error || outcome.status >= 500 || outcome.status === 0) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error })
          span.end()
        } else {
          s.open = span
        }
      }
    },
  }

  /** Ends the request's spans once the record is final (cost included). */
  record(r: RequestRecord): void {
    const s = this.spans.get(r)
    if (!s) return
    this.spans.delete(r)
    const obs = this.observer.get(r)
    const server = s.server
    if (server.isRecording()) {
      const ctx = obs?.ctx
      const op = ctx?.upstream.operation
      const model = r.model ?? ctx?.upstream.model
      const last = obs?.attempts[obs.attempts.length - 1]
      const api = last?.api ?? r.api
      const limit = limitDecision(r)
      const attrs: Attributes = compact({
        'gen_ai.operation.name': op,
        'gen_ai.provider.name': providerName(api),
        'gen_ai.request.model': model,
        'gen_ai.request.stream': ctx ? r.stream : undefined,
        'http.response.status_code': r.status || undefined,
        'error.type': r.error,
        [PROJECT_ATTR]: r.project,
        'tollgate.user': r.user,
        'tollgate.key_id': r.keyId,
        'tollgate.route': r.route,
        'tollgate.provider': last?.provider ?? r.provider,
        'tollgate.attempts': obs?.attempts.length || undefined,
        'tollgate.cost_usd': r.costNanos === undefined ? undefined : r.costNanos / 1e9,
        // Logfire (and pydantic-ai) read the price of an LLM call from `operation.cost`.
        'operation.cost': r.costNanos === undefined ? undefined : r.costNanos / 1e9,
        'tollgate.limit.decision': limit?.decision,
        'tollgate.limit.scope': limit?.scope,
        'gen_ai.response.time_to_first_chunk': r.stream && r.ttfbMs !== undefined ? r.ttfbMs / 1000 : undefined,
      })
      Object.assign(attrs, usageAttributes(r.usage?.tokens))
      if (obs) Object.assign(attrs, responseAttributes({ ...obs.response, model: obs.response.model ?? r.usage?.model }))
      if (obs?.capture) {
        const output = obs.streamOutput?.() ?? obs.response.output
        if (output) Object.assign(attrs, contentAttributes({ output }))
      }
      server.setAttributes(attrs)
      const name = spanName(op, model)
      if (name) server.updateName(name)
      if (r.status >= 500 || r.status === 0) server.setStatus({ code: SpanStatusCode.ERROR, message: r.error })
    }
    if (s.open) {
      if (r.error && r.status >= 500) s.open.setStatus({ code: SpanStatusCode.ERROR, message: r.error })
      if (r.error) s.open.setAttribute('error.type', r.error)
      s.open.end()
    }
    // An attempt whose outcome never came (the client left first) still ends.
    for (const span of s.attempts.values()) if (span.isRecording() && span !== s.open) span.end()
    server.end()
  }
}

function spanName(op: string | undefined, model: string | undefined): string | undefined {
  return op ? (model ? `${op} ${model}` : op) : undefined
}

function contentAttributes(c: GenAiInput & { output?: GenAiMessage[] }): Attributes {
  const out: Attributes = {}
  if (c.messages) out['gen_ai.input.messages'] = JSON.stringify(c.messages)
  if (c.system) out['gen_ai.system_instructions'] = JSON.stringify(c.system)
  if (c.output) out['gen_ai.output.messages'] = JSON.stringify(c.output)
  return out
}

function compact(a: Record<string, string | number | boolean | undefined>): Attributes {
  const out: Attributes = {}
  for (const [k, v] of Object.entries(a)) if (v !== undefined && v !== '') out[k] = v
  return out
}

function safeUrl(u: string): URL | undefined {
  try {
    return new URL(u)
  } catch {
    return undefined
  }
}
