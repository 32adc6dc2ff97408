/**
 * Relays a streamed upstream body chunk by chunk, unchanged, while a decoder reads usage
 * on the side. Reports the first byte and, exactly once, how the stream ended. A client
 * that goes away cancels this stream, which aborts the upstream request.
 */
import type { StreamDecoder } from '../providers/types'

export type StreamEnd = 'complete' | 'client_disconnected' | 'upstream_error'

export interface StreamEvents {
  firstByte(): void
  end(how: StreamEnd, error?: unknown): void
  /** Bytes that close a stream cut short by the upstream, in the client's format. */
  errorTail?(error: unknown): string | undefined
}

const encoder = new TextEncoder()

export function meteredStream(
  upstream: ReadableStream<Uint8Array>,
  decoder: StreamDecoder,
  events: StreamEvents,
  abort: AbortController,
): ReadableStream<Uint8Array> {
  const reader = upstream.getReader()
  let started = false
  let ended = false
  const end = (how: StreamEnd, error?: unknown) => {
    if (ended) return
    ended = true
    try {
      decoder.end()
    } catch {
      // A malformed tail must not hide the usage read so far.
    }
    events.end(how, error)
  }
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: Awaited<ReturnType<typeof reader.read>>
        try {
          chunk = await reader.read()
        } catch (e) {
          if (abort.signal.aborted) {
            end('client_disconnected', e)
            return controller.error(e)
          }
          end('upstream_error', e)
          const tail = events.errorTail?.(e)
          if (tail) controller.enqueue(encoder.encode(tail))
          return controller.close()
        }
        if (chunk.done) {
          end('complete')
          return controller.close()
        }
        if (!started) {
          started = true
          events.firstByte()
        }
        controller.enqueue(chunk.value)
        try {
          decoder.push(chunk.value)
        } catch {
          // Usage reading is best effort; the bytes already went to the client.
        }
      },
      cancel(reason) {
        end('client_disconnected', reason)
        abort.abort(reason)
        void reader.cancel(reason).catch(() => {})
      },
    },
    { highWaterMark: 0 },
  )
}
