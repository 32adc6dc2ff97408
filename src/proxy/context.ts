/** Everything known about one request as it walks auth → route → reserve → forward → meter → settle. */
import type { KeyRecord } from '../auth/principal'
import type { ProjectConfig, ProviderConfig, UserConfig } from '../config/schema'
import type { InboundRequest, UpstreamRequest } from '../providers/types'
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
}

/**
 * Extension points along the pipeline, so spend, telemetry and others stay out of the core:
 * - `start`: a request arrived (before auth), e.g. to open a server span;
 * - `admit`: after auth and routing, before anything goes upstream; throw a GatewayError to
 *   refuse (a spend limit);
 * - `attempt`: before each upstream try; returns a callback for its outcome;
 * - `settle`: exactly once per request that reached `admit`, before the record goes to the
 *   sinks, so it can add the cost.
 */
export interface RequestHooks {
  start?(request: Request, record: RequestRecord): void
  admit?(ctx: ProxyContext): void | Promise<void>
  attempt?(ctx: ProxyContext, attempt: Attempt): ((outcome: AttemptOutcome) => void) | void
  settle?(ctx: ProxyContext, record: RequestRecord): void
}
