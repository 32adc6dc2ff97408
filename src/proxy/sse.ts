/** SSE framing for usage readers: network chunks in, whole events out (eventsource-parser). */
import { createParser } from 'eventsource-parser'
import type { StreamDecoder, StreamUsageReader } from '../providers/types'

export function sseDecoder(reader: StreamUsageReader): StreamDecoder {
  const decoder = new TextDecoder()
  const parser = createParser({ onEvent: (ev) => reader.event(ev.event, ev.data) })
  return {
    push: (chunk) => parser.feed(decoder.decode(chunk, { stream: true })),
    end: () => {
      const rest = decoder.decode()
      if (rest) parser.feed(rest)
      // A final event without its blank line still counts (some upstreams end that way).
      parser.feed('\n\n')
    },
  }
}
