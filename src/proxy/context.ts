/** Everything known about one request as it walks auth → route → reserve → forward → meter → settle. */
import type { KeyRecord } from '../auth/principal'
import type { Config, ProjectConfig, ProviderConfig, UserConfig } from '../config/schema'
import type { Classification, InboundRequest, UpstreamRequest } from '../providers/types'
import type { RequestRecord } from './record'
import type { Route, RouteTarget } from './routes'

export interface ProxyContext {
  id: string
  request: Request
  key: KeyRecord
  project: ProjectConfig | undefined
  user: UserConfig | undefined
  route: Route
  target: RouteTarget
  inbound: InboundRequest
  /** What the route's format table says the request is (src/proxy/classify.ts); absent for an api without a table. */
  classification?: Classification
  upstream: UpstreamRequest
  record: RequestRecord
}

/** One try at one upstream (a routing group may make several per client request). */
export interface Attempt {
  /** 1-based. */
  n: number
  provider: ProviderConfig
  url: string
  /** Headers about to go upstream; a hook may add some (e.g. the attempt's traceparent). */
  headers: Headers
}

export interface AttemptOutcome {
  /** Upstream status, or 0 when none answered. */
  status: number
  /** Why the attempt failed, when it did (connect, timeout, upstream_5xx, …). */
  error?: string
  /** Whether the gateway moved on to another target after this one. */
  failedOver: boolean
}

/**
 * Extension points along the pipeline, so spend, telemetry and others stay out of the core:
 * - `start`: a request arrived (before auth), e.g. to open a server span;
 * - `admit`: after auth and routing, before anything goes upstream; throw a GatewayError to
 *   refuse (a spend limit);
 * - `attempt`: before each upstream try; returns a callback for its outcome;
 * - `settle`: exactly once per request that reached `admit`, before the record goes to the
 *   sinks, so it can add the cost;
 * - `response`: the JSON body of a successful non-streamed response, as already parsed for
 *   usage (read it, never change it);
 * - `stream`: a streamed response starts; the observer returned sees each event beside the
 *   usage reader (keep it cheap: most events need no parsing).
 */
export interface RequestHooks {
  start?(request: Request, record: RequestRecord): void
  admit?(ctx: ProxyContext): void | Promise<void>
  attempt?(ctx: ProxyContext, attempt: Attempt): ((outcome: AttemptOutcome) => void) | void
  settle?(ctx: ProxyContext, record: RequestRecord): void
  response?(ctx: ProxyContext, body: unknown): void
  stream?(ctx: ProxyContext): StreamObserver | void
  /**
   * A successful non-streamed JSON answer is about to go to the client, after usage was read
   * and before `settle`: a hook may add response headers (x-tollgate-cost-usd) or hand back
   * a changed body (a documented change, e.g. inject_cost).
   */
  respond?(ctx: ProxyContext, body: Uint8Array): ResponseChange | void
  /** The config was reloaded (ProxyHandler.setConfig). */
  configure?(config: Config): void
}

/**
 * Runs the `admit` hooks in order. A hook that answers with a promise (a Redis round trip) is
 * not awaited before the next one starts, so two shared checks (rate limits, the shared budget)
 * cost one round trip, not two; a sync refusal stops the walk. When any refuses, every hook
 * that admitted the request gets its `settle` with the refusal on the record, so what it
 * reserved (a rate limit slot, a budget) is released, and the first refusal in hook order goes on.
 */
export async function runAdmitHooks(hooks: RequestHooks[], ctx: ProxyContext): Promise<void> {
  const started: RequestHooks[] = []
  const answers: (void | Promise<void>)[] = []
  let waits = false
  let refusal: { error: unknown } | undefined
  for (const h of hooks) {
    if (!h.admit) continue
    try {
      const r = h.admit(ctx)
      started.push(h)
      answers.push(r)
      if (r) waits = true
    } catch (e) {
      refusal = { error: e }
      break
    }
  }
  if (!refusal && !waits) return
  const outcomes = await Promise.allSettled(answers)
  const first = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')
  if (first) refusal = { error: first.reason }
  if (!refusal) return
  const err = refusal.error as { status?: number; code?: string }
  ctx.record.status = typeof err.status === 'number' ? err.status : 500
  ctx.record.error ??= err.code
  started.forEach((h, i) => {
    if (outcomes[i]!.status === 'rejected' || !h.settle) return
    try {
      h.settle(ctx, ctx.record)
    } catch (s) {
      console.error(`settle hook failed: ${(s as Error).message}`)
    }
  })
  throw refusal.error
}

export interface ResponseChange {
  headers?: Record<string, string>
  body?: Uint8Array
}

/** Runs the `respond` hooks over a committed JSON body; returns the body to send. */
export function applyRespondHooks(hooks: RequestHooks[], ctx: ProxyContext, body: Uint8Array, headers: Headers): Uint8Array {
  for (const h of hooks) {
    if (!h.respond) continue
    try {
      const change = h.respond(ctx, body)
      if (!change) continue
      for (const [k, v] of Object.entries(change.headers ?? {})) headers.set(k, v)
      if (change.body) body = change.body
    } catch (e) {
      console.error(`respond hook failed: ${(e as Error).message}`)
    }
  }
  return body
}

/** Sees the events of one streamed response (SSE events, or decoded AWS event-stream payloads). */
export interface StreamObserver {
  event(name: string | undefined, data: string): void
}

/** Wraps a usage reader so observers see the same events; an observer that throws is ignored. */
export function observeStream<R extends StreamObserver>(reader: R, observers: (StreamObserver | void)[]): R {
  const list = observers.filter((o): o is StreamObserver => !!o)
  if (!list.length) return reader
  return Object.assign(Object.create(reader), {
    event(name: string | undefined, data: string) {
      reader.event(name, data)
      for (const o of list) {
        try {
          o.event(name, data)
        } catch {
          // Telemetry must never disturb the stream.
        }
      }
    },
  }) as R
}
