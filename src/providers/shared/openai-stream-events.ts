/**
 * OpenAI-format stream events (chat completions, and the Responses API), shared by OpenAI, Groq
 * and Gemini's OpenAI-compatible endpoint.
 * - Chat ends with `data: [DONE]`, after a chunk whose choice has a `finish_reason`: either one
 *   is its terminal event (an `{"error": …}` chunk too: the upstream ended it in its own format).
 * - Responses ends with `response.completed`, `response.incomplete` or `response.failed` (or `error`).
 */
import type { StreamFormat } from '../types'
import { charsOf, parseObject, stringFields, terminalWhen } from './stream-events'

/** An `{"error": …}` chunk: the upstream ended the stream in its own format. */
const ERROR_CHUNK = /^\{\s*"error"/
const FINISH = /"finish_reason"\s*:\s*"/
const CHAT_TEXT = stringFields('content', 'refusal', 'arguments', 'reasoning', 'reasoning_content')

function chatTerminal(_name: string | undefined, data: string): boolean {
  if (data === '[DONE]') return true
  const error = ERROR_CHUNK.test(data)
  if (!error && !FINISH.test(data)) return false
  const chunk = parseObject(data)
  if (!chunk) return false
  if (error) return chunk.error !== undefined
  return Array.isArray(chunk.choices) && chunk.choices.some((c) => typeof (c as { finish_reason?: unknown } | null)?.finish_reason === 'string')
}

export const chatStreamFormat: StreamFormat = {
  terminal: terminalWhen(chatTerminal),
  outputChars: (_name, data) => (data.charCodeAt(0) === 123 ? charsOf(CHAT_TEXT, data) : 0),
}

const RESPONSES_END = new Set(['response.completed', 'response.incomplete', 'response.failed', 'error'])
const RESPONSES_TEXT = stringFields('delta')

function responsesTerminal(name: string | undefined, data: string): boolean {
  if (name !== undefined && !RESPONSES_END.has(name)) return false
  if (name === undefined && !/"type"\s*:\s*"(?:response\.(?:completed|incomplete|failed)|error)"/.test(data)) return false
  const ev = parseObject(data)
  return !!ev && RESPONSES_END.has(ev.type as string)
}

export const responsesStreamFormat: StreamFormat = {
  terminal: terminalWhen(responsesTerminal),
  // Deltas only: the final event repeats the whole output.
  outputChars: (name, data) => ((name ? name.endsWith('.delta') : data.includes('.delta"')) ? charsOf(RESPONSES_TEXT, data) : 0),
}
