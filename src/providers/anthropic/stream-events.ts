/**
 * Anthropic Messages stream events, also read for Claude on Vertex and inside Bedrock invoke
 * chunks: the stream ends with `message_stop` (or an `error` event, the upstream's own ending);
 * generated output arrives in `content_block_delta` (`text`, `thinking`, `partial_json`).
 */
import type { StreamFormat } from '../types'
import { charsOf, parseObject, stringFields, terminalWhen } from '../shared/stream-events'

const END = new Set(['message_stop', 'error'])
const TEXT = stringFields('text', 'thinking', 'partial_json')

/** Whether an Anthropic event (already parsed) ends its stream. */
export function isAnthropicEnd(ev: Record<string, unknown>): boolean {
  return END.has(ev.type as string)
}

function terminal(name: string | undefined, data: string): boolean {
  if (name !== undefined ? !END.has(name) : !/"type"\s*:\s*"(?:message_stop|error)"/.test(data)) return false
  const ev = parseObject(data)
  return !!ev && isAnthropicEnd(ev)
}

/** Output characters in one Anthropic event's JSON. */
export function anthropicOutputChars(data: string): number {
  return data.includes('"content_block_delta"') ? charsOf(TEXT, data) : 0
}

export const anthropicStreamEvents: StreamFormat = {
  terminal: terminalWhen(terminal),
  outputChars: (name, data) => (name === undefined || name === 'content_block_delta' ? anthropicOutputChars(data) : 0),
}

export function anthropicStreamFormat(_flavor: string): StreamFormat {
  return anthropicStreamEvents
}
