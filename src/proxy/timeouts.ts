/**
 * Per-provider timeouts and the watchdog that enforces them on one upstream attempt. Every
 * timeout ends in one place: aborting the attempt's fetch with a cause, so whoever is reading
 * (headers, first chunk, a mid-stream chunk) sees the rejection and can ask why.
 */
import type { ProviderConfig } from '../config/schema'

export interface Timeouts {
  connectMs: number
  firstByteMs: number
  idleMs: number
  totalMs: number
}

/**
 * Generous on purpose: reasoning models can think for minutes before their first token, and a
 * 64k-token answer streams for well over ten minutes. 0 turns a timeout off.
 */
export const DEFAULT_TIMEOUTS: Timeouts = {
  connectMs: 10_000,
  firstByteMs: 120_000,
  idleMs: 300_000,
  totalMs: 30 * 60_000,
}

export function timeoutsFor(provider: ProviderConfig): Timeouts {
  const t = provider.timeouts
  return {
    connectMs: t?.connect_ms ?? DEFAULT_TIMEOUTS.connectMs,
    firstByteMs: t?.first_byte_ms ?? DEFAULT_TIMEOUTS.firstByteMs,
    idleMs: t?.idle_ms ?? DEFAULT_TIMEOUTS.idleMs,
    totalMs: t?.total_ms ?? DEFAULT_TIMEOUTS.totalMs,
  }
}

/** Why an attempt's fetch was aborted. */
export type AbortCause = 'client_disconnected' | 'connect_timeout' | 'first_byte_timeout' | 'idle_timeout' | 'total_timeout'

/**
 * The clock of one attempt. `first_byte` is armed only for streamed requests (a non-streamed
 * answer's first byte is its last, so `total` bounds those). The idle watchdog uses one timer
 * that re-arms itself lazily, not one timer per chunk.
 */
export class AttemptWatchdog {
  readonly controller = new AbortController()
  cause: AbortCause | undefined
  private total: ReturnType<typeof setTimeout> | undefined
  private firstByte: ReturnType<typeof setTimeout> | undefined
  private idle: ReturnType<typeof setTimeout> | undefined
  /** performance.now() when the pending read began; 0 while not waiting on the upstream. */
  private waitingSince = 0
  private disposed = false

  constructor(
    private readonly t: Timeouts,
    streamed: boolean,
  ) {
    if (t.totalMs > 0) this.total = setTimeout(() => this.abort('total_timeout'), t.totalMs)
    if (streamed && t.firstByteMs > 0) this.firstByte = setTimeout(() => this.abort('first_byte_timeout'), t.firstByteMs)
  }

  get signal(): AbortSignal {
    return this.controller.signal
  }

  get timedOut(): boolean {
    return this.cause !== undefined && this.cause !== 'client_disconnected'
  }

  abort(cause: AbortCause): void {
    if (this.controller.signal.aborted || this.disposed) return
    this.cause = cause
    this.controller.abort(new Error(cause))
    this.clear()
  }

  /** The first body byte arrived: from now on the idle and total timeouts apply. */
  gotFirstByte(): void {
    if (this.firstByte) clearTimeout(this.firstByte)
    this.firstByte = undefined
  }

  /** A read from the upstream body begins (`waiting(true)`) or ends (`waiting(false)`). */
  waiting(on: boolean): void {
    if (!on) {
      this.waitingSince = 0
      return
    }
    this.waitingSince = performance.now()
    if (!this.idle && this.t.idleMs > 0 && !this.disposed) this.idle = setTimeout(this.checkIdle, this.t.idleMs)
  }

  private checkIdle = (): void => {
    this.idle = undefined
    if (!this.waitingSince || this.disposed) return
    const waited = performance.now() - this.waitingSince
    if (waited >= this.t.idleMs) this.abort('idle_timeout')
    else this.idle = setTimeout(this.checkIdle, this.t.idleMs - waited)
  }

  /** The attempt is over (body done, failed over, or handed back): stop every timer. */
  dispose(): void {
    this.disposed = true
    this.clear()
  }

  private clear(): void {
    if (this.total) clearTimeout(this.total)
    if (this.firstByte) clearTimeout(this.firstByte)
    if (this.idle) clearTimeout(this.idle)
    this.total = this.firstByte = this.idle = undefined
  }
}
