/**
 * One client request and everything the gateway learns about it, from arrival to its record.
 * The pipeline (src/proxy/pipeline.ts) fills it step by step; each step's state has a named
 * slot here (the rate grant, the reservation, the attempts, …), so nothing keeps a side table.
 * Observers (request log, metrics, spans, the log line) get it once it is finished, read-only.
 */
import type { KeyRecord } from '../auth/principal'
import type { ProjectConfig, ProviderConfig, UserConfig } from '../config/schema'
import type { Classification, GenAiMessage, InboundRequest, ReportedUsage, ResponseInfo, UpstreamRequest } from '../providers/types'
import type { RateGrant } from '../ratelimit/types'
import type { SpendHold } from '../spend/steps'
import type { SharedHold } from '../cluster/budget'
import type { ObjectList } from '../objects/guard'
import type { RequestSpans } from '../telemetry/spans'
import type { Ticket } from './admission'
import { recordedText, type LimitDecision, type RequestRecord } from './record'
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
  /** Time-ordered (v7): the log and ledger indexes grow at one end instead of at random pages. */
  readonly id = Bun.randomUUIDv7()
  /** Arrival: epoch ms, and performance.now() for durations. */
  readonly ts = Date.now()
  readonly start = performance.now()
  readonly method: string
  /** The URL's path and route name as recorded (cut to a sane length); the front door's is the route its model picked. */
  readonly path: string
  routeName: string
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
  /** The answer came as events (SSE or the format's own framing). */
  eventStream = false
  // Meter
  /** Request start to the first response byte from upstream, ms. */
  ttfbMs?: number
  /** What the provider reported it used. */
  usage?: ReportedUsage
  /** Whether tracing keeps this project's prompts and answers. */
  capture = false
  /** What the answer says about itself (model, finish reasons, output), read for spans. */
  readonly response: ResponseInfo = {}
  streamOutput?: () => GenAiMessage[] | undefined
  /** Tracing's spans for this request (src/telemetry/spans.ts). */
  trace?: RequestSpans
  // Settle
  /** What a spend limit decided (set when one refused). */
  limit?: LimitDecision
  /** The priced cost, nano-dollars; absent when unpriced. */
  costNanos?: number
  // Outcome
  /** Final status (0 until finished) and the gateway error code, `upstream_<status>` or how a stream was cut. */
  status = 0
  error?: string
  /** Set once the request is settled; `record` is what observers get, built then. */
  finished = false
  record?: RequestRecord

  constructor(
    readonly request: Request,
    url: URL,
    routeName: string,
  ) {
    this.method = request.method
    this.path = recordedText(url.pathname)
    this.routeName = recordedText(routeName, 128)
  }

  /** The model as the request names it: the prepared upstream's, else the classification's. */
  get model(): string | undefined {
    return this.upstream?.model ?? this.classification?.model
  }
}

/** What observers get: the finished exchange, to read. */
export type FinishedExchange = Readonly<Exchange> & { readonly record: RequestRecord }
