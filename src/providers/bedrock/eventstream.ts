/**
 * AWS event-stream framing (application/vnd.amazon.eventstream): network chunks in, whole
 * CRC-checked messages out. Frames may be split anywhere by the network; each one is
 * reassembled from its 4-byte length prelude and decoded by @smithy/eventstream-codec,
 * which verifies both the prelude and the message CRC32.
 */
import { EventStreamCodec, type Message } from '@smithy/eventstream-codec'
import type { StreamDecoder, StreamUsageReader } from '../types'

export const EVENT_STREAM_CONTENT_TYPE = 'application/vnd.amazon.eventstream'

const utf8Decoder = new TextDecoder()
const utf8Encoder = new TextEncoder()
const codec = new EventStreamCodec(
  (b) => utf8Decoder.decode(b),
  (s) => utf8Encoder.encode(s),
)

/** Prelude (8) + prelude CRC (4) + message CRC (4). */
const MIN_FRAME = 16
/** AWS caps one message at 16 MiB; a larger length means the framing is lost. */
const MAX_FRAME = 16 * 1024 * 1024 + MIN_FRAME

export interface FrameDecoder {
  push(chunk: Uint8Array): void
  /** Whether a frame failed its length or CRC check; nothing is decoded after that. */
  readonly broken: boolean
  /** Whether bytes of an incomplete frame are still waiting. */
  readonly pending: boolean
}

export function frameDecoder(onMessage: (m: Message) => void): FrameDecoder {
  let chunks: Uint8Array[] = []
  let size = 0
  let need = 0
  let broken = false

  /** Removes the first n buffered bytes, copying only when they span several chunks. */
  const take = (n: number): Uint8Array => {
    const first = chunks[0]!
    if (first.byteLength >= n) {
      const out = first.subarray(0, n)
      if (first.byteLength === n) chunks.shift()
      else chunks[0] = first.subarray(n)
      size -= n
      return out
    }
    const out = new Uint8Array(n)
    let at = 0
    while (at < n) {
      const c = chunks[0]!
      const k = Math.min(c.byteLength, n - at)
      out.set(c.subarray(0, k), at)
      at += k
      if (k === c.byteLength) chunks.shift()
      else chunks[0] = c.subarray(k)
    }
    size -= n
    return out
  }

  const peekLength = (): number => {
    const head = new Uint8Array(4)
    let at = 0
    for (const c of chunks) {
      const k = Math.min(c.byteLength, 4 - at)
      head.set(c.subarray(0, k), at)
      at += k
      if (at === 4) break
    }
    return new DataView(head.buffer).getUint32(0, false)
  }

  const fail = () => {
    broken = true
    chunks = []
    size = 0
  }

  return {
    push(chunk) {
      if (broken || chunk.byteLength === 0) return
      chunks.push(chunk)
      size += chunk.byteLength
      for (;;) {
        if (!need) {
          if (size < 4) return
          need = peekLength()
          if (need < MIN_FRAME || need > MAX_FRAME) return fail()
        }
        if (size < need) return
        const frame = take(need)
        need = 0
        let message: Message
        try {
          message = codec.decode(frame)
        } catch {
          return fail()
        }
        onMessage(message)
      }
    },
    get broken() {
      return broken
    },
    get pending() {
      return size > 0
    },
  }
}

export function headerString(m: Message, name: string): string | undefined {
  const h = m.headers[name]
  return h && h.type === 'string' ? h.value : undefined
}

/** Usage reading over an event-stream body: each event's `:event-type` and JSON payload go to the reader. */
export function eventStreamDecoder(reader: StreamUsageReader): StreamDecoder {
  const frames = frameDecoder((m) => {
    const type = headerString(m, ':message-type')
    if (type === 'event') reader.event(headerString(m, ':event-type'), utf8Decoder.decode(m.body))
    // An exception frame ends the stream in the upstream's own terms (its name ends in `Exception`).
    else if (type === 'exception') reader.event(headerString(m, ':exception-type') ?? 'unknownException', utf8Decoder.decode(m.body))
  })
  return { push: (chunk) => frames.push(chunk), end: () => {} }
}
