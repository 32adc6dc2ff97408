/** Everything known about one request as it walks auth → route → reserve → forward → meter → settle. */
import type { KeyRecord } from '../auth/principal'
import type { ProjectConfig, UserConfig } from '../config/schema'
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

/**
 * Extension points for the stages after routing. `admit` may refuse a request by throwing a
 * GatewayError (a spend limit); `settle` runs exactly once per admitted request, before the
 * record reaches the sinks, so it can add the cost.
 */
export interface RequestHooks {
  admit?(ctx: ProxyContext): void | Promise<void>
  settle?(ctx: ProxyContext, record: RequestRecord): void
}
