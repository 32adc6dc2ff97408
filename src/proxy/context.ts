/** Everything known about one request as it walks auth → route → reserve → forward → meter → settle. */
import type { KeyRecord } from '../auth/principal'
import type { Config, ProjectConfig, ProviderConfig, UserConfig } from '../config/schema'
import type { InboundRequest, ReportedUsage, UpstreamRequest } from '../providers/types'
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
  /** Usage the provider reported for a try that failed (it billed it); spend charges it. */
  usage?: ReportedUsage
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
  /** The config was reloaded (Proxy.setConfig). */
  configure?(config: Config): void
}

/**
 * Runs the `admit` hooks in order. When one refuses, the hooks that had already admitted the
 * request get their `settle` with the refusal on the record, so what they reserved (a rate
 * limit slot, a budget) is released, then the refusal goes on. Sync hooks are not awaited.
 */
export async function runAdmitHooks(hooks: RequestHooks[], ctx: ProxyContext): Promise<void> {
  let i = 0
  try {
    for (; i < hooks.length; i++) {
      const r = hooks[i]!.admit?.(ctx)
      if (r) await r
    }
  } catch (e) {
    const err = e as { status?: number; code?: string }
    ctx.record.status = typeof err.status === 'number' ? err.status : 500
    ctx.record.error ??= err.code
    for (let j = 0; j < i; j++) {
      const h = hooks[j]!
      if (!h.admit || !h.settle) continue
      try {
        h.settle(ctx, ctx.record)
      } catch (s) {
        console.error(`settle hook failed: ${(s as Error).message}`)
      }
    }
    throw e
  }
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
