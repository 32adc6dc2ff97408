/**
 * The upper-bound estimate reserved before a request goes upstream: input tokens estimated
 * from the body, plus the most output tokens the request can produce, at the model's prices.
 *
 * - Input: one token per byte of the request body. A token always covers at least one byte
 *   of the text it encodes, and JSON framing only adds bytes, so this never falls short for
 *   text. A request that pulls in context by reference (its format's table says which:
 *   stored responses, file ids, cached contents, server-side tools) reserves the model's whole
 *   context window, or [pricing] unseen_context_tokens when the price data has none. Capped at
 *   the model's context window when the price data knows it.
 * - Output: the request's own bound as its format's table reads it (one list of fields per
 *   format, in src/providers/<api>/endpoints.ts), times the number of choices; otherwise the
 *   model's maximum ([[pricing.models]] max_output_tokens, then a table of known families),
 *   otherwise pricing.default_max_output_tokens. This file reads no provider's fields.
 * - Where a cache write costs more than plain input (Anthropic), all input is priced as a
 *   cache write, so the estimate stays an upper bound.
 */
import type { Classification, TokenUsage, UpstreamRequest } from '../providers/types'
import type { ModelFacts } from './prices'
import { BoundedMap } from '../bounded-map'

export interface EstimateInput {
  body: Uint8Array | null
  upstream: Pick<UpstreamRequest, 'model' | 'operation' | 'flavor'>
  facts: ModelFacts | null
  defaultMaxOutput: number
  /** What the format's table read from the request: its output bound, and whether it pulls in unseen context. */
  classification?: Pick<Classification, 'maxOutputTokens' | 'contextByReference' | 'choices'>
  /** Input tokens reserved for unseen context when the price data has no context window ([pricing] unseen_context_tokens). */
  unseenContextTokens?: number
}

export interface Estimate {
  inputTokens: number
  outputTokens: number
  /** Usage in genai-prices' vocabulary, to be priced like a real response. */
  usage: TokenUsage
}

/** Operations that cost nothing and reserve nothing. */
export function isFreeOperation(u: Pick<UpstreamRequest, 'model' | 'operation'>, method: string, c?: Pick<Classification, 'class' | 'model'>): boolean {
  // The table's class decides: a metered request always has a model (classification refuses one without).
  if (c) return c.class !== 'metered' || !(u.model ?? c.model)
  return !u.model || method === 'GET' || method === 'HEAD' || u.operation === 'count_tokens'
}

export function estimate(i: EstimateInput): Estimate {
  const cw = i.facts?.contextWindow
  let inputTokens = i.body?.byteLength ?? 0
  // Context the body names but does not carry (previous_response_id, file ids, cachedContent): the whole window.
  if (i.classification?.contextByReference) inputTokens = Math.max(inputTokens, cw ?? i.unseenContextTokens ?? 1_000_000)
  if (cw && inputTokens > cw) inputTokens = cw
  let outputTokens = 0
  if (i.upstream.operation !== 'embeddings') {
    const c = i.classification
    const n = Math.max(1, c?.choices ?? 1)
    if (c?.maxOutputTokens !== undefined) {
      // The table's bound already counts every choice.
      outputTokens = cw ? Math.min(c.maxOutputTokens, cw * n) : c.maxOutputTokens
    } else {
      outputTokens = i.facts?.maxOutputTokens ?? knownMaxOutput(i.upstream.model ?? '') ?? i.defaultMaxOutput
      if (cw && outputTokens > cw) outputTokens = cw
      outputTokens *= n
    }
  }
  return withUsage(i, inputTokens, outputTokens)
}

function withUsage(i: EstimateInput, inputTokens: number, outputTokens: number): Estimate {
  const usage: TokenUsage = { input_tokens: inputTokens, output_tokens: outputTokens }
  const p = i.facts?.prices
  if (p && inputTokens > 0 && highest(p.cache_write_mtok) > highest(p.input_mtok)) usage.cache_write_tokens = inputTokens
  return { inputTokens, outputTokens, usage }
}

/**
 * The estimate's price in USD, from the model's price table alone: the same arithmetic
 * genai-prices does for an estimate's usage (input, output, and cache writes standing in for
 * input), with the tier picked by the total input tokens, and every other input or output
 * unit priced at the dearer rate, so it never falls below the real price. It runs on every
 * admitted request, where a full genai-prices calculation would cost more than the rest of
 * admission together.
 */
export function estimateUsd(facts: ModelFacts, e: Estimate): number {
  const p = facts.prices as Record<string, unknown>
  const inTok = e.inputTokens
  const inRate = Math.max(tierRate(p.input_mtok, inTok), e.usage.cache_write_tokens ? tierRate(p.cache_write_mtok, inTok) : 0)
  const outRate = tierRate(p.output_mtok, inTok)
  const perRequest = typeof p.requests_kcount === 'number' ? p.requests_kcount / 1000 : 0
  return (inTok * inRate + e.outputTokens * outRate) / 1e6 + perRequest
}

/** USD per million tokens at `inputTokens` total input (genai-prices' tier rule: the last tier whose start is below). */
function tierRate(p: unknown, inputTokens: number): number {
  if (typeof p === 'number') return p
  const t = p as { base?: number; tiers?: { start: number; price: number }[] } | undefined
  if (!t || typeof t.base !== 'number') return 0
  let rate = t.base
  for (const tier of t.tiers ?? []) if (inputTokens > tier.start) rate = tier.price
  return rate
}

function highest(p: unknown): number {
  if (typeof p === 'number') return p
  const t = p as { base?: number; tiers?: { price: number }[] } | undefined
  if (!t || typeof t.base !== 'number') return 0
  return Math.max(t.base, ...(t.tiers ?? []).map((x) => x.price))
}

/** Published output ceilings of model families (upper ends, so the estimate stays a bound). */
const FAMILY_MAX_OUTPUT: [RegExp, number][] = [
  [/gpt-5|codex/, 128_000],
  [/(^|[^a-z])o[1-9](-|$)/, 100_000],
  [/gpt-4\.1/, 32_768],
  [/gpt-4o/, 16_384],
  [/gpt-4|gpt-3\.5/, 8_192],
  [/claude-(opus|sonnet|haiku)-4|claude-[a-z]+-4|claude-3-7/, 64_000],
  [/claude-3-5/, 8_192],
  [/claude/, 4_096],
  [/gemini-(2\.5|3)/, 65_536],
  [/gemini/, 8_192],
  [/nova/, 10_000],
]

/** Answers by model name: ten regexes per request otherwise. Bounded, since names come from clients. */
export const maxOutputByModel = new BoundedMap<number | undefined>(1000, 512 << 10)

export function knownMaxOutput(model: string): number | undefined {
  if (maxOutputByModel.has(model)) return maxOutputByModel.get(model)
  const m = model.toLowerCase()
  let found: number | undefined
  for (const [re, n] of FAMILY_MAX_OUTPUT) {
    if (re.test(m)) {
      found = n
      break
    }
  }
  maxOutputByModel.set(model, found)
  return found
}
