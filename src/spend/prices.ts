/**
 * Prices every request with @pydantic/genai-prices (pinned), after the `[[pricing.models]]`
 * overrides from config. Overrides are compiled into genai-prices' own Provider shape, so
 * the same calculation (tiers, cache reads and writes) applies to both.
 */
import { calcPrice, type ModelInfo, type ModelPrice, type Provider } from '@pydantic/genai-prices'
import type { PricedModelConfig, PricingConfig } from '../config/schema'
import type { TokenUsage } from '../providers/types'
import { usdToNanos } from './money'
import { deriveLinear, evaluate, nanosIfUnambiguous, shapeOf, type LinearPrice } from './linear-price'
import { BoundedMap } from '../bounded-map'

/** Each cache below is keyed by a model name a client or an upstream sent: 10,000 names, 4 MB of keys at most. */
const cache = <V>() => new BoundedMap<V>(10_000, 4 << 20)

export interface Price {
  /** Nano-dollars, rounded once (see money.ts). */
  nanos: number
  /** Where the price came from: `config` or genai-prices' provider id. */
  source: string
  model: string
}

export interface ModelFacts {
  prices: ModelPrice
  contextWindow?: number
  maxOutputTokens?: number
}

interface Override {
  provider?: string
  match: (model: string) => boolean
  info: ModelInfo
  maxOutputTokens?: number
}

export class Pricer {
  private overrides: Override[] = []
  private factsCache = cache<ModelFacts | null>()
  /**
   * The data's provider narrowed to the one model a name resolved to. Resolving a model name
   * walks every model's match rules; done once per name, later prices skip the walk.
   */
  private narrowed = cache<Provider>()
  /** Checked linear forms by model and usage shape (null: this one always goes to genai-prices). */
  private linear = cache<LinearPrice | null>()
  /** Prices answered by the linear fast path (tests check it is really taken). */
  fastHits = 0

  constructor(config: PricingConfig) {
    this.configure(config)
  }

  configure(config: PricingConfig): void {
    this.overrides = config.models.map(compile)
    this.factsCache.clear()
    this.narrowed.clear()
    this.linear.clear()
  }

  /** Entries and key bytes of the caches keyed by model names (tests check that a refused name never lands in one). */
  cacheStats(): { entries: number; bytes: number } {
    const all = [this.factsCache, this.narrowed, this.linear]
    return { entries: all.reduce((n, c) => n + c.size, 0), bytes: all.reduce((n, c) => n + c.bytes, 0) }
  }

  /**
   * The price of `usage` for `model`, reached through gateway provider `providerId` whose
   * genai-prices id is `pricingProvider`. Null when neither config nor the data knows it.
   */
  price(usage: TokenUsage, model: string, pricingProvider: string, providerId: string | undefined, at: Date): Price | null {
    const o = this.override(model, providerId)
    const key = `${pricingProvider}\0${model}`
    const narrowed = o ? undefined : this.narrowed.get(key)
    if (narrowed) {
      const fast = this.fastPrice(narrowed, usage, model, key, at)
      if (fast !== undefined) {
        this.fastHits++
        return { nanos: fast, source: narrowed.id, model: narrowed.models[0]!.id }
      }
    }
    const opts = o ? { provider: overrideProvider(o) } : narrowed ? { provider: narrowed } : { providerId: pricingProvider }
    let r
    try {
      r = calcPrice(usage, model, { ...opts, timestamp: at })
    } catch {
      // Usage the data cannot reconcile (e.g. cache counts above the total) is unpriceable, not a crash.
      return null
    }
    if (!r) return null
    if (!o && !narrowed) {
      this.narrowed.set(key, { ...r.provider, models: [r.model] })
    }
    return { nanos: usdToNanos(r.total_price), source: o ? 'config' : r.provider.id, model: r.model.id }
  }

  /** The linear fast path (linear-price.ts), or undefined to let genai-prices price it. */
  private fastPrice(narrowed: Provider, usage: TokenUsage, model: string, key: string, at: Date): number | undefined {
    const shape = shapeOf(usage)
    if (shape === undefined) return undefined
    // Only models without dated or time-of-day prices get a linear form, so it holds at any time.
    const k = `${key}\0${shape}`
    let l = this.linear.get(k)
    if (l === undefined) {
      l = deriveLinear(narrowed, model, shape, at) ?? null
      this.linear.set(k, l)
    }
    return l ? nanosIfUnambiguous(evaluate(l, usage)) : undefined
  }

  /** Price table and limits of a model, or null when it cannot be priced. */
  facts(model: string, pricingProvider: string, providerId: string | undefined, at: Date): ModelFacts | null {
    const cacheKey = `${providerId ?? ''}\0${pricingProvider}\0${model}`
    // Dated prices (start_date, time of day) are rare; the cache keeps the table, pricing itself uses `at`.
    if (this.factsCache.has(cacheKey)) return this.factsCache.get(cacheKey)!
    const o = this.override(model, providerId)
    let facts: ModelFacts | null = null
    if (o) facts = { prices: o.info.prices as ModelPrice, contextWindow: o.info.context_window, maxOutputTokens: o.maxOutputTokens }
    else {
      try {
        const r = calcPrice({ input_tokens: 0, output_tokens: 0 }, model, { providerId: pricingProvider, timestamp: at })
        if (r) facts = { prices: r.model_price, contextWindow: r.model.context_window }
      } catch {
        facts = null
      }
    }
    this.factsCache.set(cacheKey, facts)
    return facts
  }

  private override(model: string, providerId: string | undefined): Override | undefined {
    for (const o of this.overrides) if ((!o.provider || o.provider === providerId) && o.match(model)) return o
    return undefined
  }
}

function compile(m: PricedModelConfig): Override {
  const prices: ModelPrice = { input_mtok: m.input_mtok, output_mtok: m.output_mtok }
  if (m.cache_read_mtok !== undefined) prices.cache_read_mtok = m.cache_read_mtok
  if (m.cache_write_mtok !== undefined) prices.cache_write_mtok = m.cache_write_mtok
  const re = new RegExp(`^${m.model.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i')
  return {
    provider: m.provider,
    match: (s) => re.test(s),
    info: { id: m.model, match: { regex: re.source }, prices, context_window: m.context_window },
    maxOutputTokens: m.max_output_tokens,
  }
}

const providerOf = new WeakMap<Override, Provider>()

function overrideProvider(o: Override): Provider {
  let p = providerOf.get(o)
  if (!p) {
    // genai-prices matches regexes case-sensitively; ours are compiled case-insensitive, so match all here.
    p = { id: 'config', name: 'config.toml [[pricing.models]]', api_pattern: '.*', models: [{ ...o.info, match: { regex: '.*' } }] }
    providerOf.set(o, p)
  }
  return p
}
