/** What the gateway remembers of one client request once it has ended. */
import type { ReportedUsage } from '../providers/types'

export interface RequestRecord {
  id: string
  /** Start time, epoch ms. */
  ts: number
  keyId?: string
  project?: string
  user?: string
  provider?: string
  route?: string
  api?: string
  model?: string
  method: string
  path: string
  stream: boolean
  status: number
  durationMs: number
  ttfbMs?: number
  usage?: ReportedUsage
  costNanos?: number
  /** Gateway error code, `upstream_<status>`, or `client_disconnected`. */
  error?: string
}

/** Anything that wants every finished request: the request log, metrics, spend. */
export interface RequestSink {
  record(r: RequestRecord): void
}
