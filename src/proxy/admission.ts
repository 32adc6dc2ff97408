/**
 * Admission: the gateway says when it is full instead of failing inside. A new request is
 * refused with a native 503 and retry-after, before anything is reserved or sent upstream, when
 * - `server.max_inflight` requests are in flight (default: (open-files soft limit − 256) / 2,
 *   since a relayed stream holds two descriptors; 256 are margin for the database and logs), or
 * - the gateway is above its high-water mark (90 %) of max_inflight and this key already holds
 *   its fair share of it, or
 * - the streams' buffered bytes are above 90 % of `server.stream_buffer_budget_bytes` and this
 *   key's streams hold their fair share of the budget. A key below its share is still admitted:
 *   one key's slow streams cannot shut the others out (what the others add past the budget is
 *   at most their shares), or
 * - a gate says so (the database write queue is full during a database outage).
 * Requests already admitted are never touched. Per-key concurrency limits (src/ratelimit) apply
 * on top of this.
 */
import { Gauge, type Registry } from 'prom-client'
import type { Config } from '../config/schema'
import { GatewayError } from '../errors'
import { startupOpenFiles } from './rlimit'
import { STREAM_BUFFER_BYTES, type StreamBuffers } from './stream'

/** Above this fraction of max_inflight, a key may hold at most its fair share. */
const HIGH_WATER = 0.9
/** A key's share never drops below this fraction of max_inflight (a few keys may each stream a lot). */
const SHARE_FLOOR = 0.05
/** Without a readable open-files limit. */
const FALLBACK_MAX_INFLIGHT = 4096

/** The client's native 503 for a full gateway. */
export function gatewayOverloaded(message: string, retryAfterSecs = 1): GatewayError {
  return new GatewayError('unavailable', 503, 'gateway_overloaded', message, { headers: { 'retry-after': String(retryAfterSecs) }, retryable: true })
}

/** Descriptors kept for the database, logs, listeners and connect probes. */
const FD_MARGIN = 256

/** The default for `server.max_inflight`: (open-files soft limit − 256) / 2, two descriptors a stream. */
export function defaultMaxInflight(softLimit = startupOpenFiles()?.soft): number {
  if (!softLimit || !Number.isFinite(softLimit)) return FALLBACK_MAX_INFLIGHT
  return Math.max(16, Math.floor((softLimit - FD_MARGIN) / 2))
}

/** What one admitted request holds; `release` once when it finishes (extra calls do nothing). */
export interface Ticket {
  release(): void
  /** The request's relay counts its buffered bytes here: its key's and the gateway's totals follow. */
  readonly buffers: StreamBuffers
}

/** One key's holdings: requests in flight and bytes its streams buffer. */
interface KeyHold {
  inflight: number
  bytes: number
}

/**
 * A ticket's stream buffers: each change of `bytes` (the relay adds what it writes and takes
 * off what the socket took) goes to the key's and the gateway's totals as well.
 */
class TicketBuffers implements StreamBuffers {
  private own = 0
  constructor(
    private readonly total: { bytes: number; perStream: number },
    private readonly hold: KeyHold,
    private readonly settle: () => void,
  ) {}
  get bytes(): number {
    return this.own
  }
  set bytes(v: number) {
    const d = v - this.own
    this.own = v
    this.hold.bytes += d
    this.total.bytes += d
    if (this.hold.bytes === 0) this.settle()
  }
  get perStream(): number {
    return this.total.perStream
  }
}

/**
 * A condition outside admission's own counts that refuses new requests the same way: the
 * database write queue at its bound (src/db/batch-writer.ts `full`, wired in src/gateway.ts).
 */
export type AdmissionGate = () => { message: string; retryAfterSecs?: number } | undefined

export class Admission {
  maxInflight = FALLBACK_MAX_INFLIGHT
  bufferBudget = 1024 * 1024 * 1024
  inflight = 0
  /** Every relay's bytes, counted through its ticket's buffers; `perStream` is `server.stream_buffer_bytes`. */
  readonly buffers = { bytes: 0, perStream: STREAM_BUFFER_BYTES }
  private readonly perKey = new Map<string, KeyHold>()
  private readonly gates: AdmissionGate[] = []

  configure(config: Config): void {
    this.maxInflight = config.server.max_inflight ?? defaultMaxInflight()
    this.bufferBudget = config.server.stream_buffer_budget_bytes
    this.buffers.perStream = config.server.stream_buffer_bytes
  }

  /** Gauges of how close the gateway is to each limit, read at scrape time. */
  registerMetrics(registry: Registry): void {
    const registers = [registry]
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({ name, help, registers, collect() {
        this.set(read())
      } })
    gauge('tollgate_admission_inflight', 'Requests admitted and not yet finished (counted by admission).', () => this.inflight)
    gauge('tollgate_admission_max_inflight', 'server.max_inflight: past it new requests get 503 gateway_overloaded.', () => this.maxInflight)
    gauge('tollgate_stream_buffer_bytes', 'Bytes buffered by relayed streams for slow clients.', () => this.buffers.bytes)
    gauge('tollgate_stream_buffer_budget_bytes', 'server.stream_buffer_budget_bytes: past it new requests get 503.', () => this.bufferBudget)
  }

  /** Another reason to refuse new requests, asked on every admission (it must be cheap). */
  addGate(gate: AdmissionGate): void {
    this.gates.push(gate)
  }

  /** Admits a request of `key`, or throws the 503 that says the gateway is full. */
  admit(key: string): Ticket {
    for (const gate of this.gates) {
      const refusal = gate()
      if (refusal) throw gatewayOverloaded(refusal.message, refusal.retryAfterSecs)
    }
    const max = this.maxInflight
    if (this.inflight >= max) throw gatewayOverloaded(`The gateway is at its limit of ${max} requests in flight; try again shortly.`)
    const hold = this.perKey.get(key)
    if (hold && hold.inflight > 0 && this.inflight >= max * HIGH_WATER && hold.inflight >= this.fairShare()) {
      throw gatewayOverloaded('The gateway is busy and this key holds its fair share of it; try again shortly.')
    }
    if (hold && hold.bytes > 0) this.checkBuffers(hold.bytes)
    const h = hold ?? { inflight: 0, bytes: 0 }
    if (!hold) this.perKey.set(key, h)
    h.inflight++
    this.inflight++
    const drop = () => {
      if (h.inflight === 0 && h.bytes === 0 && this.perKey.get(key) === h) this.perKey.delete(key)
    }
    let done = false
    return {
      buffers: new TicketBuffers(this.buffers, h, drop),
      release: () => {
        if (done) return
        done = true
        this.inflight--
        h.inflight--
        drop()
      },
    }
  }

  /**
   * Refuses a key whose streams buffer `held` bytes once the streams' total is above 90 % of the
   * budget (counting room for one more stream's whole buffer) and one more stream's buffer would
   * take this key past its fair share of the budget. A key below its share is still admitted.
   */
  private checkBuffers(held: number): void {
    const per = this.buffers.perStream
    if (this.buffers.bytes + per <= this.bufferBudget * HIGH_WATER || held + per <= this.bufferShare()) return
    throw gatewayOverloaded("The gateway is at its memory budget for stream buffers and this key's streams hold their share of it; try again shortly.")
  }

  /** A key's share of the stream buffer budget, reckoned like fairShare's of max_inflight. */
  bufferShare(): number {
    return Math.max(Math.ceil(this.bufferBudget / (this.perKey.size + 1)), Math.ceil(this.bufferBudget * SHARE_FLOOR))
  }

  /**
   * A key's share of max_inflight above the high-water mark: an equal part among the active keys
   * and one more that may still arrive (so a lone key stops at the mark and leaves room for a
   * newcomer), never below the floor. A key holding nothing is always within its share.
   */
  fairShare(): number {
    return Math.max(Math.ceil(this.maxInflight / (this.perKey.size + 1)), Math.ceil(this.maxInflight * SHARE_FLOOR))
  }
}
