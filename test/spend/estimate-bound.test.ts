/**
 * The reservation's price is computed from the price table alone (no full genai-prices run
 * on the hot path). It must never fall below genai-prices' own price for the same usage,
 * and for plain token prices it must equal it: checked over every model the data knows.
 */
import { expect, test } from 'bun:test'
import { calcPrice, findProvider } from '@pydantic/genai-prices'
import { estimateUsd, type Estimate } from '../../src/spend/estimate'

const PROVIDERS = ['openai', 'anthropic', 'google', 'groq', 'aws', 'mistral', 'deepseek', 'x-ai']
const SHAPES: [number, number, boolean][] = [
  [12, 9, false],
  [5_000, 4_096, false],
  [150_000, 8_192, true],
  [250_000, 65_536, false],
  [1_200_000, 100, true],
]

test('the estimate price is an upper bound of genai-prices, and exact for plain prices', () => {
  let checked = 0
  let exact = 0
  const at = new Date('2026-11-27T12:00:00Z')
  for (const pid of PROVIDERS) {
    for (const m of findProvider({ providerId: pid })?.models ?? []) {
      for (const [inputTokens, outputTokens, cacheWrite] of SHAPES) {
        const usage: Estimate['usage'] = { input_tokens: inputTokens, output_tokens: outputTokens }
        if (cacheWrite) usage.cache_write_tokens = inputTokens
        let real
        try {
          real = calcPrice(usage, m.id, { providerId: pid, timestamp: at })
        } catch {
          continue
        }
        if (!real) continue
        const bound = estimateUsd({ prices: real.model_price }, { inputTokens, outputTokens, usage })
        checked++
        // Float noise aside, never below the real price.
        expect(bound).toBeGreaterThanOrEqual(real.total_price * (1 - 1e-12))
        if (Math.abs(bound - real.total_price) <= real.total_price * 1e-12) exact++
      }
    }
  }
  expect(checked).toBeGreaterThan(1000)
  // Nearly all models have plain per-token prices; the bound is then the price itself.
  expect(exact / checked).toBeGreaterThan(0.9)
})
