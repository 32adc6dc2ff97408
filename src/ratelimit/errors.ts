/**
 * The refusal of a request over a rate limit: kind `rate_limit`, which each provider's error
 * shape renders natively (OpenAI/Groq 429 `rate_limit_exceeded`, Anthropic 429
 * `rate_limit_error`, Google 429 `RESOURCE_EXHAUSTED`, Bedrock 429 `ThrottlingException`).
 * Unlike a spend limit it passes soon, so SDKs may retry: `x-should-retry: true`, with an
 * honest `retry-after` (whole seconds, rounded up) and `retry-after-ms`.
 */
import { GatewayError } from '../errors'
import type { RateDenial } from './types'

const WHAT = {
  rpm: (n: number) => `${n} request(s) per minute (rpm)`,
  tpm: (n: number) => `${n} tokens per minute (tpm)`,
  concurrency: (n: number) => `${n} request(s) in flight (concurrency)`,
} as const

export class RateLimitError extends GatewayError {
  constructor(d: RateDenial) {
    const ms = Math.max(1, Math.ceil(d.retryAfterMs))
    const secs = Math.ceil(ms / 1000)
    super(
      'rate_limit',
      429,
      'rate_limit_exceeded',
      `Rate limit reached for ${d.scope.kind} "${d.scope.id}": ${WHAT[d.metric](d.limit)}. Try again in ${secs} s.`,
      { retryable: true, headers: { 'retry-after': String(secs), 'retry-after-ms': String(ms) } },
    )
  }
}

/**
 * Limits are shared through Redis, which this instance cannot reach, and
 * `cluster.on_redis_down = "closed"`: a key held by any limit is refused rather than let
 * through unmetered. Unlimited keys are unaffected.
 */
export class LimitsUnavailableError extends GatewayError {
  constructor(cause: string) {
    super(
      'unavailable',
      503,
      'limits_unavailable',
      `This key is held by limits shared through Redis, and ${cause}; the gateway refuses limited keys until it is back (cluster.on_redis_down = "closed").`,
      { retryable: true, headers: { 'retry-after': '1' } },
    )
  }
}
