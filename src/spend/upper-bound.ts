/**
 * What an admitted request reserves: its estimate (estimate.ts) priced at the dearest model it
 * names (an inline batch names one per request), with the provider's markup. One function for
 * the local budget (steps.ts) and the shared one (cluster/budget.ts), so both reserve alike.
 */
import type { Exchange } from '../proxy/exchange'
import { estimate, estimateUsd } from './estimate'
import { usdToNanos, withMarkup } from './money'
import type { ModelFacts } from './prices'
import type { Spend } from './service'

export interface UpperBound {
  /** Nano-dollars to reserve (0 when no model named could be priced). */
  amount: number
  /** The largest input estimate (a stream cut short settles on it). */
  inputTokens: number
}

/** `unpriced` is called for each model without a price (and may throw to refuse the request). */
export function upperBound(spend: Spend, ctx: Exchange, unpriced: (model: string) => void = () => {}): UpperBound {
  const { upstream, target } = ctx
  const at = new Date(spend.clock())
  const managed = target.provider.managed === true
  let amount = 0
  let inputTokens = 0
  for (const model of ctx.classification?.models ?? [upstream.model!]) {
    const facts: ModelFacts | null = spend.pricer.facts(model, target.api.pricingProvider, target.provider.id, at)
    if (!facts) unpriced(model)
    const est = estimate({
      body: ctx.inbound.body,
      upstream: { ...upstream, model },
      facts,
      defaultMaxOutput: spend.config.pricing.default_max_output_tokens,
      classification: ctx.classification,
      unseenContextTokens: spend.config.pricing.unseen_context_tokens,
    })
    inputTokens = Math.max(inputTokens, est.inputTokens)
    if (facts) amount = Math.max(amount, withMarkup(usdToNanos(estimateUsd(facts, est)), managed ? target.provider.markup : undefined))
  }
  return { amount, inputTokens }
}
