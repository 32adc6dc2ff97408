/**
 * The linear fast path must give exactly genai-prices' answer (rounded to nanos the same way)
 * for every model and usage it takes, and hand everything else back. Checked over every model
 * of the main providers with many random usages of every supported shape.
 */
import { expect, test } from 'bun:test'
import { calcPrice, findProvider } from '@pydantic/genai-prices'
import { Pricer } from '../../src/spend/prices'
import { usdToNanos } from '../../src/spend/money'
import { nanosIfUnambiguous } from '../../src/spend/linear-price'
import { seededRandom } from '../support/random'

const PROVIDERS = ['openai', 'anthropic', 'google', 'groq', 'aws', 'mistral', 'deepseek', 'x-ai']
const SHAPES = [
  ['input_tokens', 'output_tokens'],
  ['input_tokens', 'output_tokens', 'cache_read_tokens'],
  ['input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens'],
  ['input_tokens', 'output_tokens', 'output_reasoning_tokens'],
  ['input_tokens', 'output_tokens', 'cache_read_tokens', 'input_audio_tokens', 'output_audio_tokens'],
]

test('fast prices equal genai-prices for every model and shape, or defer to it', () => {
  const pricer = new Pricer({ unknown_model: 'allow', default_max_output_tokens: 32768, models: [] } as never)
  const rand = seededRandom(42)
  const at = new Date('2026-11-27T12:00:00Z')
  let compared = 0
  for (const pid of PROVIDERS) {
    for (const m of findProvider({ providerId: pid })?.models ?? []) {
      for (const shape of SHAPES) {
        for (let i = 0; i < 12; i++) {
          const input = Math.floor(rand() * (i < 6 ? 5_000 : 300_000))
          const output = Math.floor(rand() * 20_000)
          const usage: Record<string, number> = { input_tokens: input, output_tokens: output }
          let left = input
          for (const k of shape.slice(2)) {
            const part = k.startsWith('output') ? Math.floor(rand() * output * 0.5) : Math.floor(rand() * left * 0.5)
            if (!k.startsWith('output')) left -= part
            usage[k] = part
          }
          let want: number | null
          try {
            const r = calcPrice(usage, m.id, { providerId: pid, timestamp: at })
            want = r ? usdToNanos(r.total_price) : null
          } catch {
            want = null
          }
          // Twice: the first call learns the model, the second takes the fast path.
          pricer.price(usage, m.id, pid, undefined, at)
          const got = pricer.price(usage, m.id, pid, undefined, at)
          expect({ model: `${pid}/${m.id}`, usage, nanos: got?.nanos ?? null }).toEqual({ model: `${pid}/${m.id}`, usage, nanos: want })
          compared++
        }
      }
    }
  }
  expect(compared).toBeGreaterThan(10_000)
  // Most of them really took the fast path (half the calls are the learning ones).
  expect(pricer.fastHits).toBeGreaterThan(compared * 0.8)
})

test('totals at a half nano are left to genai-prices', () => {
  expect(nanosIfUnambiguous(1.5e-9)).toBeUndefined()
  expect(nanosIfUnambiguous(2.4e-9)).toBe(2)
  expect(nanosIfUnambiguous(2.6e-9)).toBe(3)
  expect(nanosIfUnambiguous(0)).toBe(0)
})
