/**
 * Bedrock stream events (AWS event-stream frames, decoded by ./eventstream.ts):
 * - ConverseStream ends with `messageStop` and then `metadata` (usage): both are its terminal;
 *   output arrives in `contentBlockDelta` (`text`, tool `input`, reasoning `text`);
 * - InvokeModelWithResponseStream sends `chunk` events with the model's own event in base64:
 *   Anthropic's `message_stop`, or for any model the last chunk's `amazon-bedrock-invocationMetrics`;
 * - an exception frame (`…Exception`) is the upstream's own ending.
 */
import type { StreamFormat, StreamTerminal } from '../types'
import { anthropicOutputChars, isAnthropicEnd } from '../anthropic/stream-events'
import { charsOf, parseObject, stringFields } from '../shared/stream-events'

const CONVERSE_TEXT = stringFields('text', 'input')

/** The model's own event inside an invoke `chunk` (base64 JSON), as text. */
function chunkText(data: string): string | undefined {
  const bytes = parseObject(data)?.bytes
  return typeof bytes === 'string' ? Buffer.from(bytes, 'base64').toString('utf8') : undefined
}

function terminal(): StreamTerminal {
  let stopped = false
  let metadata = false
  let ended = false
  return {
    event(name, data) {
      if (ended || !name) return
      if (name === 'messageStop') stopped = true
      else if (name === 'metadata') metadata = true
      else if (name.endsWith('Exception')) ended = true
      else if (name === 'chunk') {
        const text = chunkText(data)
        if (!text || (!text.includes('"message_stop"') && !text.includes('invocationMetrics') && !text.includes('"error"'))) return
        const ev = parseObject(text)
        if (ev && (isAnthropicEnd(ev) || ev['amazon-bedrock-invocationMetrics'] !== undefined)) ended = true
      }
    },
    get complete() {
      return ended || (stopped && metadata)
    },
  }
}

export const bedrockStreamEvents: StreamFormat = {
  terminal,
  outputChars(name, data) {
    if (name === 'contentBlockDelta') return charsOf(CONVERSE_TEXT, data)
    if (name !== 'chunk') return 0
    const text = chunkText(data)
    return text ? anthropicOutputChars(text) : 0
  },
}

export function bedrockStreamFormat(_flavor: string): StreamFormat {
  return bedrockStreamEvents
}
