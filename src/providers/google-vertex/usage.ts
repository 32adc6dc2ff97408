/**
 * Vertex usage, priced under genai-prices' `google` provider: Gemini's `usageMetadata` (flavor
 * `default`), or Anthropic's `usage` for Claude on Vertex (flavor `anthropic`).
 */
import type { ReportedUsage, StreamUsageReader } from '../types'
import { anthropicJsonUsage, anthropicStreamUsage } from '../anthropic/usage'
import { googleJsonUsage, googleStreamUsage } from '../shared/google-usage'

export function vertexJsonUsage(body: unknown, flavor: string): ReportedUsage | undefined {
  return flavor === 'anthropic' ? anthropicJsonUsage(body, 'google', 'anthropic') : googleJsonUsage(body)
}

export function vertexStreamUsage(flavor: string): StreamUsageReader {
  return flavor === 'anthropic' ? anthropicStreamUsage('google', 'anthropic') : googleStreamUsage()
}
