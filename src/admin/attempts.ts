/**
 * Failed sign-ins per client address: bad admin tokens and session cookies, failed OIDC
 * callbacks, and setup or invitation links that do not exist. Past `[admin] max_failed_attempts`
 * in a window of `failed_attempts_window_seconds`, the address gets 429 with retry-after on
 * every admin route that checks a credential, before anything is looked up. Successes do not
 * count, and do not reset the count either (a valid token must not launder guesses).
 * In memory, per instance, bounded: the oldest addresses are forgotten first.
 */
import { BoundedMap } from '../bounded-map'
import { AdminError } from './errors'
import { limitKey } from './client-address'

interface Window {
  failures: number
  endsAt: number
}

const MAX_ADDRESSES = 100_000

export class FailedAttempts {
  private readonly windows = new BoundedMap<Window>(MAX_ADDRESSES, MAX_ADDRESSES * 200)

  constructor(
    public limit: number,
    public windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `address` may try again, or undefined when it may now. */
  retryAfter(address: string): number | undefined {
    const w = this.windows.get(limitKey(address))
    const now = this.now()
    if (!w || w.endsAt <= now || w.failures < this.limit) return undefined
    return Math.max(1, Math.ceil((w.endsAt - now) / 1000))
  }

  fail(address: string): void {
    const key = limitKey(address)
    const w = this.windows.get(key)
    const now = this.now()
    if (!w || w.endsAt <= now) this.windows.set(key, { failures: 1, endsAt: now + this.windowMs })
    else w.failures++
  }

  /** Throws the admin API's 429 when `address` is past the limit. */
  check(address: string): void {
    const wait = this.retryAfter(address)
    if (wait !== undefined) throw tooManyAttempts(wait)
  }
}

export class TooManyAttempts extends AdminError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'too_many_attempts', `Too many failed sign-in attempts from this address; try again in ${retryAfterSeconds} s.`)
  }

  override toResponse(): Response {
    const res = super.toResponse()
    res.headers.set('retry-after', String(this.retryAfterSeconds))
    return res
  }
}

export const tooManyAttempts = (seconds: number) => new TooManyAttempts(seconds)
