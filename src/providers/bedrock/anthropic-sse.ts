/**
 * THE ONE RESPONSE CONVERSION in Tollgate. A client of `/bedrock/v1/messages` speaks the
 * Anthropic Messages API and reads Server-Sent Events, but Bedrock's
 * InvokeModelWithResponseStream wraps each Anthropic event in an AWS event-stream frame
 * (`:event-type: chunk`, payload `{"bytes": "<base64 of the event JSON>"}`). This unwraps
 * every frame and writes the event JSON, byte for byte as Bedrock sent it, as
 * `event: <type>\ndata: <json>\n\n`. Stream exceptions become Anthropic `error` events, and a
 * stream that fails or ends before `message_stop` gets one too, so the client never sees a
 * silent cut. Usage is metered on the upstream bytes before this runs.
 */
import { GatewayError, type ErrorKind } from '../../errors'
import { anthropicErrorEvent } from '../anthropic/errors'
import type { ResponseConversion } from '../types'
import { frameDecoder, headerString } from './eventstream'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Stream exception names (lower camel case in event-streams) → the gateway's error kinds. */
function kindOf(exception: string): ErrorKind {
  const e = exception.toLowerCase()
  if (e.startsWith('throttling')) return 'rate_limit'
  if (e.startsWith('validation')) return 'invalid_request'
  if (e.startsWith('serviceunavailable')) return 'unavailable'
  if (e.startsWith('modeltimeout')) return 'timeout'
  return 'upstream'
}

function errorEvent(kind: ErrorKind, message: string): Uint8Array {
  return encoder.encode(anthropicErrorEvent(new GatewayError(kind, 502, 'upstream_stream_error', message)))
}

/** The conversion without I/O: event-stream bytes in, SSE bytes out. */
export function anthropicSseConverter() {
  let done = false
  let out: Uint8Array[] = []
  const frames = frameDecoder((m) => {
    if (done) return
    const type = headerString(m, ':message-type')
    if (type === 'event' && headerString(m, ':event-type') === 'chunk') {
      const bytes = (JSON.parse(decoder.decode(m.body)) as { bytes?: unknown }).bytes
      if (typeof bytes !== 'string') return
      const json = Buffer.from(bytes, 'base64').toString('utf8')
      const name = (JSON.parse(json) as { type?: unknown }).type
      if (typeof name !== 'string') return
      // SSE data lines cannot hold a newline; JSON only has them as insignificant whitespace.
      out.push(encoder.encode(`event: ${name}\ndata: ${json.replace(/\r?\n/g, ' ')}\n\n`))
      if (name === 'message_stop' || name === 'error') done = true
    } else if (type === 'exception' || type === 'error') {
      const exception = headerString(m, ':exception-type') ?? headerString(m, ':error-code') ?? 'internalServerException'
      let message = headerString(m, ':error-message') ?? ''
      try {
        const body = JSON.parse(decoder.decode(m.body)) as { message?: unknown; Message?: unknown }
        message = String(body.message ?? body.Message ?? message)
      } catch {
        // Keep the header's message.
      }
      out.push(errorEvent(kindOf(exception), message || `Bedrock stream failed: ${exception}.`))
      done = true
    }
  })
  const finish = (message: string): Uint8Array[] => {
    if (done) return []
    done = true
    return [errorEvent('upstream', message)]
  }
  return {
    /** SSE bytes for one network chunk (none while a frame is incomplete). */
    push(chunk: Uint8Array): Uint8Array[] {
      if (done) return []
      try {
        frames.push(chunk)
      } catch {
        // A payload that is not the JSON Bedrock documents: stop rather than forward garbage.
        out.push(...finish('The upstream stream carried an unreadable event.'))
      }
      if (frames.broken) out.push(...finish('The upstream stream failed its event-stream checksum.'))
      const ready = out
      out = []
      return ready
    },
    /** The upstream ended: complete, or cut before `message_stop`. */
    end: () => finish('The upstream stream ended before it completed.'),
    /** Reading the upstream failed (reset, timeout). */
    fail: () => finish('The upstream stream failed before it completed.'),
  }
}

export function eventStreamToAnthropicSse(source: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = source.getReader()
  const conv = anthropicSseConverter()
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          let next: Awaited<ReturnType<typeof reader.read>>
          try {
            next = await reader.read()
          } catch {
            for (const b of conv.fail()) controller.enqueue(b)
            return controller.close()
          }
          if (next.done) {
            for (const b of conv.end()) controller.enqueue(b)
            return controller.close()
          }
          const ready = conv.push(next.value)
          if (ready.length) {
            for (const b of ready) controller.enqueue(b)
            return
          }
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  )
}

export const anthropicSseConversion: ResponseConversion = {
  contentType: 'text/event-stream; charset=utf-8',
  convert: eventStreamToAnthropicSse,
}
