/** Gemini API streams: Gemini chunks, or OpenAI chat chunks on its OpenAI-compatible endpoint. */
import type { StreamFormat } from '../types'
import { googleStreamFormat } from '../shared/google-stream-events'
import { chatStreamFormat } from '../shared/openai-stream-events'

export function geminiStreamFormat(flavor: string): StreamFormat {
  return flavor === 'openai' ? chatStreamFormat : googleStreamFormat
}
