/**
 * A fast, exact path for the commonest prices. genai-prices is a general engine of usage units
 * whose per-call validation costs more than all the rest of a request's accounting (measured:
 * about a quarter of the gateway's throughput). For a model whose prices are plain numbers
 * (no tiers, no dated or time-of-day variants), the price is linear in the reported usage:
 * the coefficients are read from genai-prices itself, by differences, and checked against it
 * on other usages before they are trusted. A total that lands within a hair of a half
 * nano-dollar, where a different float order could round the other way, is left to
 * genai-prices, as is any usage whose keys or values fall outside the checked shape.
 */
import { calcPrice, type Provider } from '@pydantic/genai-prices'
import type { TokenUsage } from '../providers/types'
import { NANOS_PER_USD, roundHalfUp15 } from './money'

/** Usage keys the fast path takes; anything else goes to genai-prices. */
const INPUT_PARTS = ['cache_read_tokens', 'cache_write_tokens', 'input_audio_tokens'] as const
const OUTPUT_PARTS = ['output_reasoning_tokens', 'output_audio_tokens'] as const
const KEYS = new Set<string>(['input_tokens', 'output_tokens', ...INPUT_PARTS, ...OUTPUT_PARTS])

export interface LinearPrice {
  /** USD per unit of each usage key, in the key order of `keys`. */
  keys: string[]
  coefficients: number[]
  /** USD charged whatever the usage (per-request fees). */
  constant: number
}

/** The key set of a usage, as the cache key of its linear form; undefined when the fast path cannot take it. */
export function shapeOf(usage: TokenUsage): string | undefined {
  let shape = ''
  for (const k in usage) {
    const v = usage[k]
    if (v === undefined) continue
    if (!KEYS.has(k) || typeof v !== 'number' || !Number.isFinite(v) || v < 0) return undefined
    shape += shape ? `,${k}` : k
  }
  const i = usage.input_tokens ?? 0
  const o = usage.output_tokens ?? 0
  // Parts above their whole are for genai-prices to judge (it refuses them).
  if ((usage.cache_read_tokens ?? 0) + (usage.cache_write_tokens ?? 0) + (usage.input_audio_tokens ?? 0) > i) return undefined
  if ((usage.output_reasoning_tokens ?? 0) + (usage.output_audio_tokens ?? 0) > o) return undefined
  return shape
}

/**
 * Derives and checks the linear form of `provider`'s single model for usages with the keys
 * of `shape`. Undefined when the prices are not plain numbers or genai-prices disagrees.
 */
export function deriveLinear(provider: Provider, model: string, shape: string, at: Date): LinearPrice | undefined {
  const m = provider.models[0]
  if (!m || Array.isArray(m.prices) || Object.values(m.prices).some((p) => p !== undefined && typeof p !== 'number')) return undefined
  const keys = shape.split(',').filter(Boolean)
  const price = (u: TokenUsage): number | undefined => {
    try {
      return calcPrice(u, model, { provider, timestamp: at })?.total_price
    } catch {
      return undefined
    }
  }
  const base: TokenUsage = {}
  for (const k of keys) base[k] = k === 'input_tokens' || k === 'output_tokens' ? 8_000_000 : 1_000_000
  const atBase = price(base)
  if (atBase === undefined) return undefined
  const coefficients: number[] = []
  for (const k of keys) {
    // Lowering one count keeps every part within its whole.
    const lower = price({ ...base, [k]: base[k]! / 2 })
    if (lower === undefined) return undefined
    coefficients.push((atBase - lower) / (base[k]! / 2))
  }
  const constant = atBase - keys.reduce((sum, k, i) => sum + coefficients[i]! * base[k]!, 0)
  const linear: LinearPrice = { keys, coefficients, constant }
  for (const scale of [0.37, 0.0011, 1.9]) {
    const probe: TokenUsage = {}
    for (const k of keys) probe[k] = Math.round(base[k]! * scale * (k.startsWith('cache') ? 0.7 : 1))
    const want = price(probe)
    const got = evaluate(linear, probe)
    if (want === undefined || Math.abs(got - want) > Math.max(1e-15, Math.abs(want) * 1e-12)) return undefined
  }
  return linear
}

export function evaluate(l: LinearPrice, usage: TokenUsage): number {
  let usd = l.constant
  for (let i = 0; i < l.keys.length; i++) usd += l.coefficients[i]! * (usage[l.keys[i]!] ?? 0)
  return usd
}

/**
 * Nano-dollars as money.ts's usdToNanos would round them, or undefined when the total sits so
 * close to a half nano that genai-prices' own float order must decide.
 */
export function nanosIfUnambiguous(usd: number): number | undefined {
  if (!Number.isFinite(usd) || usd <= 0) return usd === 0 ? 0 : undefined
  const x = usd * NANOS_PER_USD
  // Far from a half, the 15-digit cut cannot change the answer (see roundHalfUp15).
  if (x < 1e12 && Math.abs(x - Math.floor(x) - 0.5) > 0.001) return roundHalfUp15(x)
  const raw = Number(x.toPrecision(15))
  const frac = raw - Math.floor(raw)
  const margin = 1e-6 + Math.abs(raw) * 1e-12
  if (Math.abs(frac - 0.5) < margin) return undefined
  return Math.floor(raw + 0.5)
}
