/** OpenAI usage: chat, responses and embeddings bodies and streams. */
import type { ReportedUsage, StreamUsageReader } from '../types'
import { usageFrom } from '../shared/usage'
import { chatStreamUsage, responsesStreamUsage } from '../shared/openai-stream-usage'

export function openAiJsonUsage(body: unknown, flavor: string): ReportedUsage | undefined {
  const b = body as { usage?: { prompt_tokens?: number; completion_tokens?: number }; model?: string } | undefined
  if (!b?.usage) return undefined
  if (flavor === 'embeddings') {
    // Embeddings report prompt tokens only; genai-prices' chat extractor requires completion tokens.
    return usageFrom('openai', { model: b.model, usage: { completion_tokens: 0, ...b.usage } }, 'chat', b.usage)
  }
  return usageFrom('openai', body, flavor, b.usage)
}

export function openAiStreamUsage(flavor: string): StreamUsageReader {
  return flavor === 'responses' ? responsesStreamUsage('openai') : chatStreamUsage('openai', 'chat')
}
