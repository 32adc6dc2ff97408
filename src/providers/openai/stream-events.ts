/** OpenAI stream events: chat completions or the Responses API, by operation (src/providers/shared/openai-stream-events.ts). */
import type { StreamFormat } from '../types'
import { chatStreamFormat, responsesStreamFormat } from '../shared/openai-stream-events'

export function openAiStreamFormat(flavor: string): StreamFormat {
  return flavor === 'responses' ? responsesStreamFormat : chatStreamFormat
}
