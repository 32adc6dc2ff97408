/**
 * One client request and everything the gateway learns about it, from arrival to its record.
 * The pipeline (src/proxy/pipeline.ts) fills it step by step; each step's state has a named
 * slot here (the rate grant, the reservation, the attempts, …), so nothing keeps a side table.
 * Observers (request log, metrics, spans, the log line) get it once it is finished, read-only.
 */
import type { KeyRecord } from '../auth/principal'
import type { ProjectConfig, ProviderConfig, UserConfig } from '../config/schema'
import type { Classification, GenAiMessage, InboundRequest, ResponseInfo, UpstreamRequest } from '../providers/types'
import type { RateGrant } from '../ratelimit/types'
import type { SpendHold } from '../spend/steps'
import type { SharedHold } from '../cluster/budget'
import type { ObjectList } from '../objects/guard'
import type { RequestSpans } from '../telemetry/spans'
import type { Ticket } from './admission'
import { recordedText, type RequestRecord } from './record'
import type { Route, RouteTarget } from './routes'

/** One try at one upstream (a routing group may make several per client request), and how it went. */
export interface Attempt {
  /** 1-based, counting only tries that were sent. */
  n: number
  provider: ProviderConfig
  /** Absent when the target could not take the request at all (its `prepare` refused it): nothing was sent. */
  url?: string
  /** Headers about to go upstream (tracing adds the attempt's traceparent). */
  headers?: Headers
  /** performance.now() when it started, and when its outcome was known (a stream: when it committed). */
  start: number
  end: number
  /** Upstream status, or 0 when none answered. */
  status: number
  /** Why it failed, as known at its outcome (connect, timeout, upstream_5xx, …). */
  error?: string
  /** A committed stream that was later cut short: how (idle_timeout, upstream_error, …). */
  cut?: string
  /** Whether the gateway moved on to another target after this one. */
  failedOver: boolean
}

/** Sees the events of one streamed response (SSE events, or decoded AWS event-stream payloads). */
export interface StreamObserver {
  event(name: string | undefined, data: string): void
}

export class Exchange {
  readonly start = performance.now()
  readonly record: RequestRecord
  // Authenticate
  key!: KeyRecord
  project: ProjectConfig | undefined
  user: UserConfig | undefined
  // Route and classify
  route!: Route
  /** The target being tried (the one that answered, once forwarded). */
  target!: RouteTarget
  inbound!: InboundRequest
  /** What the route's format table says the request is (src/proxy/classify.ts); absent for an api without a table. */
  classification?: Classification
  upstream!: UpstreamRequest
  // Admit
  /** The gateway's own capacity (src/proxy/admission.ts). */
  ticket?: Ticket
  rate?: RateGrant
  spend?: SpendHold
  shared?: SharedHold
  /** The caller's ids of the kind a list request lists (src/objects/guard.ts). */
  objectList?: ObjectList
  // Forward
  /** Every try, in order; undefined until the request is forwarded. */
  attempts?: Attempt[]
  /** A streamed response is being relayed (or was). */
  streamed = false
  // Meter
  /** Whether tracing keeps this project's prompts and answers. */
  capture = false
  /** What the answer says about itself (model, finish reasons, output), read for spans. */
  readonly response: ResponseInfo = {}
  streamOutput?: () => GenAiMessage[] | undefined
  /** Tracing's spans for this request (src/telemetry/spans.ts). */
  trace?: RequestSpans
  /** Set once the request is settled and recorded. */
  finished = false

  constructor(
    readonly request: Request,
    url: URL,
    routeName: string,
  ) {
    this.record = {
      // Time-ordered (v7): the log and ledger indexes grow at one end instead of at random pages.
      id: Bun.randomUUIDv7(),
      ts: Date.now(),
      method: request.method,
      path: recordedText(url.pathname),
      route: recordedText(routeName, 128),
      stream: false,
      status: 0,
      durationMs: 0,
    }
  }

  get id(): string {
    return this.record.id
  }
}

/** What observers get: the finished exchange, to read. */
export type FinishedExchange = Readonly<Exchange>
