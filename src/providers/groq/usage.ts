/** Groq usage: `usage` in JSON bodies; `x_groq.usage` (or `usage`) on the last stream chunk. */
import type { ReportedUsage, StreamUsageReader } from '../types'
import { usageFrom } from '../shared/usage'
import { chatStreamUsage } from '../shared/openai-stream-usage'

export function groqJsonUsage(body: unknown): ReportedUsage | undefined {
  return usageFrom('groq', body, 'default', (body as { usage?: unknown } | undefined)?.usage)
}

export function groqStreamUsage(): StreamUsageReader {
  return chatStreamUsage('groq', 'default')
}
