/**
 * Cost checks for the conformance suite: every recorded answer that genai-prices can price
 * must cost exactly what genai-prices itself calculates for its usage (converted to
 * nano-dollars, halves up); one it cannot price is recorded unpriced with its tokens
 * (the suite runs with pricing.unknown_model = "allow", since some recordings are newer
 * than the price data).
 */
import { expect } from 'bun:test'
import { calcPrice, extractUsage, findProvider } from '@pydantic/genai-prices'
import type { RequestRecord, RequestSink } from '../../src/proxy/record'
import { providerApi } from '../../src/providers/registry'
import type { Interaction } from '../support/recordings'

export const PRICING_TOML = '[pricing]\nunknown_model = "allow"'

const records = new Map<string, RequestRecord>()
export const costSink: RequestSink = { record: (r) => void records.set(r.id, r) }
export const costTally = { priced: 0, unpriced: 0, noUsage: 0 }

export function checkCost(res: Response, x: Interaction): void {
  const id = res.headers.get('x-tollgate-request-id')
  const r = id ? records.get(id) : undefined
  expect(r).toBeDefined()
  if (!r) return
  records.delete(r.id)
  if (!r.usage) {
    costTally.noUsage++
    // Nothing reported, nothing billed: an error answer, count_tokens, a model list.
    if (r.costNanos !== undefined) expect(r.costNanos).toBe(0)
    return
  }
  const api = providerApi(r.api ?? '')!
  const model = r.usage.model ?? r.model ?? ''
  const own = calcPrice(r.usage.tokens, model, { providerId: api.pricingProvider, timestamp: new Date(r.ts) }) ??
    (r.model && r.model !== model ? calcPrice(r.usage.tokens, r.model, { providerId: api.pricingProvider, timestamp: new Date(r.ts) }) : null)
  if (!own) {
    costTally.unpriced++
    expect(r.costNanos).toBeUndefined()
    expect(Object.values(r.usage.tokens).some((v) => typeof v === 'number')).toBe(true)
    return
  }
  costTally.priced++
  const exact = own.total_price * 1e9
  expect(r.costNanos).toBe(Math.round(Number(exact.toPrecision(15))))
  expect(Math.abs(r.costNanos! - exact)).toBeLessThanOrEqual(0.5 + 1e-6)
  if (!r.stream && res.status < 300) expect(Number(res.headers.get('x-tollgate-cost-usd'))).toBeCloseTo(r.costNanos! / 1e9, 9)
  // The usage priced is the one in the recorded body (read independently with genai-prices' extractor).
  if (!r.stream && x.responseJson && r.api === 'anthropic') {
    const p = findProvider({ providerId: api.pricingProvider })!
    expect(extractUsage(p, x.responseJson, 'default').usage).toEqual(r.usage.tokens)
  }
}
