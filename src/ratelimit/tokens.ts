/**
 * The tokens a request reserves against tpm: the same upper bound the spend reservation
 * prices (src/spend/estimate.ts): input estimated from the body, plus the request's own
 * output limit (else the model's maximum, else pricing.default_max_output_tokens).
 */
import type { Exchange } from '../proxy/exchange'
import { estimate, isFreeOperation } from '../spend/estimate'
import type { Spend } from '../spend/service'
import type { TokenEstimator } from './gate'

export function tokenEstimator(spend: Spend): TokenEstimator {
  return function tpmReservation(ctx: Exchange): number {
    const { upstream, target, inbound, request } = ctx
    if (isFreeOperation(upstream, request.method, ctx.classification)) return 0
    const facts = spend.pricer.facts(upstream.model!, target.api.pricingProvider, target.provider.id, new Date(spend.clock()))
    const e = estimate({ body: inbound.body, upstream, facts, defaultMaxOutput: spend.config.pricing.default_max_output_tokens, classification: ctx.classification, unseenContextTokens: spend.config.pricing.unseen_context_tokens })
    return e.inputTokens + e.outputTokens
  }
}
