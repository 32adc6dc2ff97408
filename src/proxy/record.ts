/** What the gateway remembers of one client request once it has ended. */
import type { ReportedUsage } from '../providers/types'
import type { FinishedExchange } from './exchange'

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
  /** Every upstream try, in order (a routing group may fail over several times). */
  attempts?: AttemptRecord[]
  /** What the spend limits decided, for traces and metrics (set by the spend step). */
  limit?: LimitDecision
}

/** A spend-limit verdict: `scope` names the binding limit (project, user, key, credits). */
export interface LimitDecision {
  decision: 'admitted' | 'rejected'
  scope?: string
  window?: string
}

/** One upstream try as the request log keeps it. */
export interface AttemptRecord {
  provider: string
  /** Upstream status, or 0 when none answered. */
  status: number
  /** Why it failed: connect, connect_timeout, first_byte_timeout, upstream_<status>, idle_timeout, … */
  error?: string
  /** Whether the gateway moved on to another target after this one. */
  failedOver: boolean
  /** When the outcome was known, ms since the request arrived. */
  ms: number
}

/** Anything that wants every finished request (the request log, metrics, spans, the log line): it reads, never changes. */
export interface RequestSink {
  record(r: Readonly<RequestRecord>, x: FinishedExchange): void
}

/** Longest path the record keeps: a URL is as long as the HTTP server accepts (tens of KB), and every record is logged and stored. */
export const MAX_RECORDED_PATH = 1024

/** `s` cut to `max` characters, marked when cut. */
export function recordedText(s: string, max = MAX_RECORDED_PATH): string {
  return s.length > max ? `${s.slice(0, max)}…` : s
}
