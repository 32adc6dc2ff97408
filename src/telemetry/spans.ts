/**
 * Spans for each request: one SERVER span (parent: the incoming `traceparent`), and one
 * CLIENT span per upstream attempt, failovers included, whose `traceparent` goes upstream.
 * The server span carries the GenAI attributes, usage and cost beside the gateway's own
 * (project, user, key id, route, limit decision); attempt spans carry the attempt's provider,
 * status and outcome. The successful attempt stays open until the response body ends.
 * Spans open as the pipeline reaches them (begin, attempt) and end when the finished
 * request is recorded, after it was priced; they live on the request's `x.trace`.
 */
import { SpanKind, SpanStatusCode, ROOT_CONTEXT, trace, type Attributes, type Span } from '@opentelemetry/api'
import type { Attempt, Exchange, FinishedExchange } from '../proxy/exchange'
import type { TracingSteps } from '../proxy/pipeline'
import type { RequestRecord, RequestSink } from '../proxy/record'
import { providerName, requestAttributes, responseAttributes, usageAttributes } from './genai-attributes'
import type { GenAiInput, GenAiMessage } from '../providers/types'
import { limitDecision } from './limits'
import { PROJECT_ATTR, type Tracing } from './tracing'

/** One request's open spans. */
export interface RequestSpans {
  server: Span
  attempts: Map<number, Span>
  /** The attempt that answered (kept open until the body ends). */
  open?: Span
}

export class SpanRecorder implements RequestSink, TracingSteps {
  /** Spans describe answers (model, finish reasons, output). */
  readonly describes = true

  constructor(private readonly tracing: Tracing) {}

  begin(x: Exchange): void {
    const { request } = x
    const server = this.tracing.tracer.startSpan(
        `${x.method} ${x.routeName}`.trim(),
        {
          kind: SpanKind.SERVER,
          attributes: { 'http.request.method': x.method, 'url.path': x.path, 'tollgate.request_id': x.id },
        },
        this.tracing.parentFrom(request.headers),
      )
    x.trace = { server, attempts: new Map() }
  }

  /** The request is classified: the server span learns it; answers whether its content is captured. */
  admitted(ctx: Exchange): boolean {
    const capture = this.tracing.captureContent(ctx.key.project)
    const s = ctx.trace
    if (!s || !s.server.isRecording()) return capture
    const format = ctx.target.api.telemetry?.(ctx.upstream.flavor)
    const json = ctx.inbound.json
    s.server.setAttributes({ [PROJECT_ATTR]: ctx.key.project, ...requestAttributes(json && format?.request(json), ctx.classification) })
    if (json && format && capture) s.server.setAttributes(contentAttributes(format.input(json)))
    return capture
  }

  attempt(ctx: Exchange, attempt: Attempt): void {
    const s = ctx.trace
    if (!s) return
    const op = ctx.upstream.operation
    const model = ctx.upstream.model
    const url = safeUrl(attempt.url!)
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
    this.tracing.inject(span, attempt.headers!)
  }

  /** Ends the request's spans once the record is final (cost included). */
  record(r: Readonly<RequestRecord>, x: FinishedExchange): void {
    const s = x.trace
    if (!s) return
    const sent = x.attempts?.filter((a) => a.url !== undefined) ?? []
    // Attempts that failed or moved on end at their outcome; the one that answered stays open until the body ended.
    for (const a of sent) {
      const span = s.attempts.get(a.n)
      if (!span) continue
      span.setAttributes(compact({ 'http.response.status_code': a.status || undefined, 'error.type': a.error, 'tollgate.failed_over': a.failedOver }))
      if (a.error || a.failedOver || a.status >= 400) {
        if (a.error || a.status >= 500 || a.status === 0) span.setStatus({ code: SpanStatusCode.ERROR, message: a.error })
        span.end(a.end)
      } else s.open = span
    }
    const server = s.server
    const forwarded = x.upstream !== undefined
    if (server.isRecording()) {
      const op = x.upstream?.operation
      const model = r.model ?? x.upstream?.model
      const last = sent[sent.length - 1]
      const api = last?.provider.api ?? r.api
      const limit = limitDecision(r)
      const attrs: Attributes = compact({
        'gen_ai.operation.name': op,
        'gen_ai.provider.name': providerName(api),
        'gen_ai.request.model': model,
        'gen_ai.request.stream': forwarded && x.key ? r.stream : undefined,
        'http.response.status_code': r.status || undefined,
        'error.type': r.error,
        [PROJECT_ATTR]: r.project,
        'tollgate.user': r.user,
        'tollgate.key_id': r.keyId,
        'tollgate.route': r.route,
        'tollgate.provider': last?.provider.id ?? r.provider,
        'tollgate.attempts': sent.length || undefined,
        'tollgate.cost_usd': r.costNanos === undefined ? undefined : r.costNanos / 1e9,
        // Logfire (and pydantic-ai) read the price of an LLM call from `operation.cost`.
        'operation.cost': r.costNanos === undefined ? undefined : r.costNanos / 1e9,
        'tollgate.limit.decision': limit?.decision,
        'tollgate.limit.scope': limit?.scope,
        'gen_ai.response.time_to_first_chunk': r.stream && r.ttfbMs !== undefined ? r.ttfbMs / 1000 : undefined,
      })
      Object.assign(attrs, usageAttributes(r.usage?.tokens))
      Object.assign(attrs, responseAttributes({ ...x.response, model: x.response.model ?? r.usage?.model }))
      if (x.capture) {
        const output = x.streamOutput?.() ?? x.response.output
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
