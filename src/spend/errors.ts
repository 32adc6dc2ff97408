/**
 * The refusal when a limit or the credits are exhausted: kind `quota`, which each provider's
 * error shape renders as its own "quota exhausted" reply (OpenAI/Groq 429 insufficient_quota,
 * Anthropic 402 billing_error, Google 429 RESOURCE_EXHAUSTED, Bedrock 429
 * ServiceQuotaExceededException). SDKs must not retry it: x-should-retry is false, and
 * retry-after says when the window resets.
 */
import { GatewayError } from '../errors'
import type { Denial } from './budget'
import { formatUsd } from './money'
import { secondsUntil } from './windows'

const WINDOW_NAME = { day: 'daily', week: 'weekly', month: 'monthly', total: 'total' } as const

export class SpendLimitError extends GatewayError {
  constructor(message: string, code: string, retryAfter: number | undefined) {
    super('quota', 429, code, message, { retryable: false, headers: retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) } })
  }
}

export function limitError(d: Denial, now: number, zone: string, providerId: string): SpendLimitError {
  const used = formatUsd(d.spent + d.reserved)
  if (d.scope.kind === 'credits') {
    return new SpendLimitError(
      `Project "${d.scope.id}" has no credits left for the managed provider "${providerId}" ` +
        `(credits ${formatUsd(d.limit)}, used or reserved ${used}). Top up with \`tollgate credits add --project ${d.scope.id} --usd <amount>\`.`,
      'insufficient_credits',
      undefined,
    )
  }
  const resets = Number.isFinite(d.resetsAt) ? `it resets at ${new Date(d.resetsAt).toISOString()} (window zone ${zone})` : 'a total limit does not reset'
  return new SpendLimitError(
    `Spend limit reached for ${d.scope.kind} "${d.scope.id}": the ${WINDOW_NAME[d.window]} limit is ${formatUsd(d.limit)} ` +
      `and ${used} is spent or reserved; ${resets}.`,
    'spend_limit_reached',
    secondsUntil(d.resetsAt, now),
  )
}
