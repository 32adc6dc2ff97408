/** Splits a recorded SSE body into its events, as a client would see them. */
import { createParser, type EventSourceMessage } from 'eventsource-parser'

export function sseEvents(body: Uint8Array | string): EventSourceMessage[] {
  const out: EventSourceMessage[] = []
  const p = createParser({ onEvent: (e) => out.push(e) })
  p.feed(typeof body === 'string' ? body : new TextDecoder().decode(body))
  p.feed('\n\n')
  return out
}

/** The JSON payloads of an SSE body, skipping `[DONE]` and the events named in `skip`. */
export function sseJson(body: Uint8Array | string, skip: string[] = []): unknown[] {
  return sseEvents(body)
    .filter((e) => e.data !== '[DONE]' && !skip.includes(e.event ?? ''))
    .map((e) => JSON.parse(e.data))
}
