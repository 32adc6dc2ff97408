/**
 * The rate-limiter contract: per key, user and project, requests per minute (rpm), tokens
 * per minute (tpm) and requests in flight (concurrency). One process keeps the counters in
 * memory (memory.ts); a cluster keeps them in Redis (redis.ts). The pipeline step (gate.ts) only
 * see this interface.
 *
 * Rules, the same in both:
 * - rpm and tpm count over a sliding minute: a request counts from the instant it was admitted
 *   until 60 s later;
 * - tpm reserves the request's upper bound (input estimate + max output) at admission and
 *   settles it to the tokens the provider reported; when the bound does not fit but the
 *   minute still has room, the request is admitted only if nothing else is in flight on that
 *   scope (as for spend limits: the overshoot stays within one request);
 * - concurrency counts admitted requests until they end (streams included).
 */
import type { RateLimits } from '../config/schema'

export type RateScopeKind = 'key' | 'user' | 'project'
export type RateMetric = 'rpm' | 'tpm' | 'concurrency'

export interface RateScope {
  kind: RateScopeKind
  id: string
  limits: RateLimits
}

export interface RateGrant {
  /** The request id. */
  id: string
  scopes: RateScope[]
  /** Tokens reserved against tpm. */
  tokens: number
  /** Admission time, ms on the limiter's clock. */
  at: number
}

export interface RateDenial {
  denied: true
  scope: RateScope
  metric: RateMetric
  limit: number
  /** When trying again can succeed, ms from now (rpm, tpm: when enough of the minute expires). */
  retryAfterMs: number
}

export interface RateLimiter {
  /** Counts one request (and `tokens` against tpm) on every scope at once, or names the first limit in the way. */
  acquire(id: string, scopes: RateScope[], tokens: number): Promise<RateGrant | RateDenial> | RateGrant | RateDenial
  /** The request ended: frees its slot and settles its tokens to `used` (undefined keeps the reservation). */
  release(grant: RateGrant, used: number | undefined): void
}

export function isRateDenial(r: RateGrant | RateDenial): r is RateDenial {
  return (r as RateDenial).denied === true
}

export const MINUTE_MS = 60_000

export function scopeName(s: { kind: RateScopeKind; id: string }): string {
  return `${s.kind}:${s.id}`
}
