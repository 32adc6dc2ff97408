/** Groq streams OpenAI chat chunks (src/providers/shared/openai-stream-events.ts). */
import type { StreamFormat } from '../types'
import { chatStreamFormat } from '../shared/openai-stream-events'

export function groqStreamFormat(_flavor: string): StreamFormat {
  return chatStreamFormat
}
