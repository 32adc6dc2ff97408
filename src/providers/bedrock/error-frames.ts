/**
 * Error frames inside a 2xx AWS event-stream (`:message-type` `exception` or `error`: a
 * throttlingException, a modelStreamErrorException, …) may echo a credential, so their payload
 * and string header values go through the gateway's redactor, and a changed frame is encoded
 * again (new length and CRCs: the AWS SDK still parses the error). Every other frame passes byte
 * for byte: only its head (prelude and headers, where its kind is written) is held, and only
 * while the network has not delivered all of it yet.
 */
import { EventStreamCodec, type Message, type MessageHeaders } from '@smithy/eventstream-codec'
import type { StreamScreen } from '../types'

const utf8Decoder = new TextDecoder()
const utf8Encoder = new TextEncoder()
const toUtf8 = (b: Uint8Array) => utf8Decoder.decode(b)
const fromUtf8 = (s: string) => utf8Encoder.encode(s)
const codec = new EventStreamCodec(toUtf8, fromUtf8)

/** Total length (4), headers length (4), prelude CRC (4). */
const PRELUDE = 12
/** Prelude + message CRC (4). */
const MIN_FRAME = 16
const MAX_FRAME = 16 * 1024 * 1024 + MIN_FRAME
const EMPTY = new Uint8Array(0)

export function eventStreamErrorScreen(redact: (text: string) => string): StreamScreen {
  /** Bytes of the current frame not yet written (its head, or a whole error frame). */
  let pieces: Uint8Array[] = []
  let size = 0
  /** The current frame's total length, once its prelude is in; 0 before. */
  let total = 0
  let headersLength = 0
  /** Bytes left of an ordinary frame that are written as they come. */
  let passing = 0
  /** The current frame is an error frame: held until it is whole. */
  let holding = false
  /** The framing is lost (a length no frame can have): everything passes; the client's parser fails on it as it would have. */
  let lost = false

  const joined = (): Uint8Array => (pieces.length === 1 ? pieces[0]! : (adjacent(pieces) ?? Buffer.concat(pieces)))
  const reset = () => {
    pieces = []
    size = total = headersLength = 0
    holding = false
  }

  return {
    push(chunk) {
      if (lost) return chunk
      const out: Uint8Array[] = []
      let at = 0
      while (at < chunk.byteLength) {
        if (passing) {
          const k = Math.min(passing, chunk.byteLength - at)
          out.push(chunk.subarray(at, at + k))
          passing -= k
          at += k
          continue
        }
        const need = !total ? PRELUDE : holding ? total : PRELUDE + headersLength
        const k = Math.min(need - size, chunk.byteLength - at)
        pieces.push(chunk.subarray(at, at + k))
        size += k
        at += k
        if (size < need) break
        const bytes = joined()
        if (!total) {
          total = uint32(bytes, 0)
          headersLength = uint32(bytes, 4)
          if (total < MIN_FRAME || total > MAX_FRAME || headersLength > total - MIN_FRAME) {
            lost = true
            out.push(bytes, chunk.subarray(at))
            return Buffer.concat(out)
          }
          pieces = [bytes]
          continue
        }
        if (!holding) {
          if (isErrorFrame(bytes)) {
            holding = true
            pieces = [bytes]
            continue
          }
          // An ordinary frame: its head goes out, the rest as it comes.
          out.push(bytes)
          passing = total - size
          reset()
          continue
        }
        out.push(redactFrame(bytes, redact))
        reset()
      }
      if (!out.length) return EMPTY
      // Nearly always: the bytes out are `chunk`'s own, whole and in order, and the same object goes.
      const whole = adjacent(out)
      if (whole && whole.buffer === chunk.buffer && whole.byteOffset === chunk.byteOffset && whole.byteLength === chunk.byteLength) return chunk
      return whole ?? Buffer.concat(out)
    },
    // An unfinished frame at the end is useless to any parser (and an error frame's may hold a secret): dropped.
    end() {
      reset()
      return undefined
    },
  }
}

/** Views that follow each other in one buffer, as one view; undefined when they do not. */
function adjacent(views: Uint8Array[]): Uint8Array | undefined {
  const first = views[0]!
  let end = first.byteOffset + first.byteLength
  for (let i = 1; i < views.length; i++) {
    const v = views[i]!
    if (v.buffer !== first.buffer || v.byteOffset !== end) return undefined
    end += v.byteLength
  }
  return views.length === 1 ? first : new Uint8Array(first.buffer, first.byteOffset, end - first.byteOffset)
}

const MESSAGE_TYPE = fromUtf8(':message-type')
const EVENT = fromUtf8('event')
/** Value sizes of the fixed-size header types (0 true, 1 false, 2 byte, 3 short, 4 integer, 5 long, 8 timestamp, 9 uuid). */
const FIXED: Record<number, number> = { 0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16 }

/**
 * Whether a frame head (prelude and headers) is not an ordinary event's: its `:message-type`
 * header is read in place (a frame's hot path allocates nothing); unreadable headers count as
 * an error frame's (held, then checked whole).
 */
function isErrorFrame(head: Uint8Array): boolean {
  let at = PRELUDE
  const end = head.byteLength
  while (at < end) {
    const nameLength = head[at]!
    const name = at + 1
    const type = head[name + nameLength]
    at = name + nameLength + 1
    if (type === undefined || at > end) return true
    let valueLength: number
    let value = at
    if (type === 6 || type === 7) {
      if (at + 2 > end) return true
      valueLength = (head[at]! << 8) | head[at + 1]!
      value = at + 2
    } else if (FIXED[type] !== undefined) valueLength = FIXED[type]!
    else return true
    at = value + valueLength
    if (at > end) return true
    if (type === 7 && same(head, name, nameLength, MESSAGE_TYPE)) return !same(head, value, valueLength, EVENT)
  }
  return true
}

function uint32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0
}

function same(b: Uint8Array, at: number, length: number, want: Uint8Array): boolean {
  if (length !== want.byteLength) return false
  for (let i = 0; i < length; i++) if (b[at + i] !== want[i]) return false
  return true
}

/** The frame with every secret taken out of its payload and string headers; the same bytes when there was none (or it cannot be read). */
function redactFrame(frame: Uint8Array, redact: (text: string) => string): Uint8Array {
  let message: Message
  try {
    message = codec.decode(frame)
  } catch {
    // A frame that fails its CRC: the client's SDK refuses it whatever it holds.
    return frame
  }
  let changed = false
  const headers: MessageHeaders = {}
  for (const [name, h] of Object.entries(message.headers)) {
    if (h.type === 'string') {
      const value = redact(h.value)
      if (value !== h.value) changed = true
      headers[name] = { type: 'string', value }
    } else headers[name] = h
  }
  const text = utf8Decoder.decode(message.body)
  const body = redact(text)
  if (body !== text) changed = true
  if (!changed) return frame
  return codec.encode({ headers, body: body !== text ? utf8Encoder.encode(body) : message.body })
}
