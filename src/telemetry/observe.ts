/**
 * What telemetry learns about one request along the pipeline, beyond its RequestRecord:
 * when it started (monotonic clock), its context, each upstream attempt, and what the
 * response said about itself. Spans, metrics and logs read it when the request ends.
 */
import type { Attempt, AttemptOutcome, ProxyContext, RequestHooks, StreamObserver } from '../proxy/context'
import type { RequestRecord } from '../proxy/record'
import type { GenAiMessage, ResponseInfo, TelemetryFormat } from '../providers/types'

export interface AttemptObservation {
  n: number
  provider: string
  api: string
  /** performance.now() when it started and when its outcome was known. */
  start: number
  end?: number
  outcome?: AttemptOutcome
}

export interface Observation {
  start: number
  ctx?: ProxyContext
  attempts: AttemptObservation[]
  response: ResponseInfo
  /** A streamed response began (and is open until the record is emitted). */
  streamed: boolean
  capture: boolean
  streamOutput?: () => GenAiMessage[] | undefined
}

export class Observer {
  private readonly byRecord = new WeakMap<RequestRecord, Observation>()

  /**
   * @param describesResponses whether anything reads what a response says about itself (spans
   *   do; metrics and logs do not): without tracing, bodies and stream events are not read here.
   */
  constructor(
    private readonly captureContent: (project: string | undefined) => boolean,
    private readonly describesResponses: () => boolean = () => true,
  ) {}

  get(record: RequestRecord): Observation | undefined {
    return this.byRecord.get(record)
  }

  /** Time spent upstream: every attempt from its start to its outcome; the last one until the end. */
  upstreamMs(obs: Observation, endAt: number): number {
    let total = 0
    for (const a of obs.attempts) total += Math.max(0, (a.outcome?.failedOver || a.outcome?.error ? (a.end ?? endAt) : endAt) - a.start)
    return total
  }

  readonly hooks: RequestHooks = {
    start: (_request, record) => {
      this.byRecord.set(record, { start: performance.now(), attempts: [], response: {}, streamed: false, capture: false })
    },
    admit: (ctx) => {
      const obs = this.byRecord.get(ctx.record)
      if (!obs) return
      obs.ctx = ctx
      obs.capture = this.captureContent(ctx.key.project)
    },
    attempt: (ctx: ProxyContext, attempt: Attempt) => {
      const obs = this.byRecord.get(ctx.record)
      if (!obs) return
      obs.ctx ??= ctx
      const a: AttemptObservation = { n: attempt.n, provider: attempt.provider.id, api: attempt.provider.api, start: performance.now() }
      obs.attempts.push(a)
      return (outcome) => {
        a.end = performance.now()
        a.outcome = outcome
      }
    },
    response: (ctx, body) => {
      const obs = this.byRecord.get(ctx.record)
      if (obs && this.describesResponses()) telemetryOf(ctx)?.response(body, obs.response, obs.capture)
    },
    stream: (ctx): StreamObserver | void => {
      const obs = this.byRecord.get(ctx.record)
      if (!obs) return
      obs.streamed = true
      const format = this.describesResponses() ? telemetryOf(ctx) : undefined
      if (!format) return
      const reader = format.stream(obs.response, obs.capture)
      if (obs.capture) obs.streamOutput = () => reader.output()
      return reader
    },
  }
}

/** How the answering target's format reads this operation (its flavor), if it says. */
export function telemetryOf(ctx: ProxyContext): TelemetryFormat | undefined {
  return ctx.target.api.telemetry?.(ctx.upstream.flavor)
}
