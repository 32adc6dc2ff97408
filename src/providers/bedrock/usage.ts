/**
 * Bedrock usage, priced as genai-prices provider `aws`.
 * - Converse JSON and the ConverseStream `metadata` event: `usage` in Bedrock's camelCase
 *   (flavor `default`; inputTokens excludes cache reads and writes).
 * - InvokeModel JSON: the model's own body; Anthropic bodies carry Anthropic `usage` (flavor
 *   `anthropic`), Nova bodies Converse-style `usage`.
 * - InvokeModelWithResponseStream: `chunk` events whose `bytes` are base64 JSON. Anthropic
 *   events are read as on Anthropic's own API; the last chunk of every model carries
 *   `amazon-bedrock-invocationMetrics`, the fallback for models without usage of their own.
 */
import type { ReportedUsage, StreamUsageReader } from '../types'
import { usageFrom } from '../shared/usage'
import { tryParse } from '../shared/openai-stream-usage'
import { anthropicStreamUsage } from '../anthropic/usage'

export const PRICING_PROVIDER = 'aws'

export function bedrockJsonUsage(body: unknown): ReportedUsage | undefined {
  const usage = (body as { usage?: unknown } | undefined)?.usage
  if (!usage || typeof usage !== 'object') return undefined
  if ('input_tokens' in usage) return usageFrom(PRICING_PROVIDER, body, 'anthropic', usage)
  if ('inputTokens' in usage) return usageFrom(PRICING_PROVIDER, body, 'default', usage)
  return undefined
}

/** One reader for both stream kinds: the event names (`metadata`, `chunk`) tell them apart. */
export function bedrockStreamUsage(): StreamUsageReader {
  let converse: ReportedUsage | undefined
  let metrics: ReportedUsage | undefined
  const anthropic = anthropicStreamUsage(PRICING_PROVIDER, 'anthropic')
  return {
    event(name, data) {
      if (name === 'metadata') {
        const usage = tryParse(data)?.usage
        if (usage && typeof usage === 'object') converse = usageFrom(PRICING_PROVIDER, { usage }, 'default', usage)
      } else if (name === 'chunk') {
        const bytes = tryParse(data)?.bytes
        if (typeof bytes !== 'string') return
        const text = Buffer.from(bytes, 'base64').toString('utf8')
        // Most chunks are content deltas; only usage-bearing ones are worth parsing.
        if (!text.includes('usage') && !text.includes('invocationMetrics')) return
        const payload = tryParse(text)
        if (!payload) return
        anthropic.payload(payload)
        const m = payload['amazon-bedrock-invocationMetrics']
        if (m && typeof m === 'object') metrics = fromInvocationMetrics(m as Record<string, unknown>)
      }
    },
    result: () => converse ?? anthropic.result() ?? metrics,
  }
}

/** `inputTokenCount`/`outputTokenCount`/cache counts, in Converse's vocabulary for pricing. */
function fromInvocationMetrics(m: Record<string, unknown>): ReportedUsage | undefined {
  const usage: Record<string, unknown> = { inputTokens: m.inputTokenCount, outputTokens: m.outputTokenCount }
  if (typeof m.cacheReadInputTokenCount === 'number') usage.cacheReadInputTokens = m.cacheReadInputTokenCount
  if (typeof m.cacheWriteInputTokenCount === 'number') usage.cacheWriteInputTokens = m.cacheWriteInputTokenCount
  return usageFrom(PRICING_PROVIDER, { usage }, 'default', m)
}
