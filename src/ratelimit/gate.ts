/**
 * Rate limits, a step of the request pipeline (src/proxy/pipeline.ts): `acquire` (admit) counts
 * the request on its key, user and project at once, or refuses it with a native 429; `release`
 * (settle) frees its concurrency slot and settles its tokens to the usage the provider reported.
 * The grant is the request's `x.rate`. A request held by no rate limit costs nothing here (no
 * limiter call at all).
 */
import type { RateLimits } from '../config/schema'
import type { Exchange } from '../proxy/exchange'
import type { RequestRecord } from '../proxy/record'
import { cutShort } from '../proxy/cut-short'
import { RateLimitError } from './errors'
import { isRateDenial, type RateDenial, type RateGrant, type RateLimiter, type RateScope } from './types'

/** Tokens to reserve against tpm: the request's input estimate plus its most output. */
export type TokenEstimator = (x: Exchange) => number

export class RateLimitGate {
  constructor(
    private limiter: RateLimiter,
    private readonly tokensFor: TokenEstimator,
  ) {}

  /** Swaps the limiter (tests; a cluster installs its own before serving). */
  use(limiter: RateLimiter): void {
    this.limiter = limiter
  }

  acquire(x: Exchange): void | Promise<void> {
    const scopes = rateScopes(x)
    if (!scopes.length) return
    const tokens = scopes.some((s) => s.limits.tpm !== undefined) ? this.tokensFor(x) : 0
    const r = this.limiter.acquire(x.id, scopes, tokens)
    if (!(r instanceof Promise)) return admitted(x, r)
    return r.then((g) => admitted(x, g))
  }

  release(x: Exchange): void {
    const g = x.rate
    if (!g) return
    x.rate = undefined
    this.limiter.release(g, usedTokens(x))
  }
}

function admitted(x: Exchange, g: RateGrant | RateDenial): void {
  if (isRateDenial(g)) throw new RateLimitError(g)
  x.rate = g
}

function held(l: RateLimits | undefined): l is RateLimits {
  return !!l && (l.rpm !== undefined || l.tpm !== undefined || l.concurrency !== undefined)
}

/** The scopes holding a request: its key, its user (personal keys) and its project, where a rate limit is set. */
export function rateScopes(ctx: Pick<Exchange, 'key' | 'user' | 'project'>): RateScope[] {
  const out: RateScope[] = []
  const { key, user, project } = ctx
  if (held(key.rateLimits)) out.push({ kind: 'key', id: key.id, limits: key.rateLimits })
  if (key.user && held(user?.rate_limits)) out.push({ kind: 'user', id: key.user, limits: user.rate_limits })
  if (held(project?.rate_limits)) out.push({ kind: 'project', id: key.project, limits: project.rate_limits })
  return out
}

/**
 * What a finished request used against tpm: the provider's input plus output tokens; nothing
 * for a request that failed without an answer; undefined (keep the reservation) for one cut
 * short without usage, whose tokens are unknown.
 */
export function usedTokens(record: Pick<RequestRecord, 'usage' | 'status' | 'error'>): number | undefined {
  const t = record.usage?.tokens
  if (t) return (t.input_tokens ?? 0) + (t.output_tokens ?? 0)
  return record.status >= 400 && !cutShort(record.error) ? 0 : undefined
}
