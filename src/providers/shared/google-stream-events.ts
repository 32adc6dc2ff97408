/**
 * Gemini stream chunks (Gemini API and Vertex, `?alt=sse`): the stream ends with a chunk whose
 * candidate has a `finishReason` (or an `{"error": …}` chunk); text arrives in `parts[].text`.
 */
import type { StreamFormat } from '../types'
import { charsOf, parseObject, stringFields, terminalWhen } from './stream-events'

const ERROR_CHUNK = /^\{\s*"error"/
const TEXT = stringFields('text')

function terminal(_name: string | undefined, data: string): boolean {
  const error = ERROR_CHUNK.test(data)
  if (!error && !data.includes('"finishReason"')) return false
  const chunk = parseObject(data)
  if (!chunk) return false
  if (error) return chunk.error !== undefined
  return Array.isArray(chunk.candidates) && chunk.candidates.some((c) => typeof (c as { finishReason?: unknown } | null)?.finishReason === 'string')
}

export const googleStreamFormat: StreamFormat = {
  terminal: terminalWhen(terminal),
  outputChars: (_name, data) => charsOf(TEXT, data),
}
