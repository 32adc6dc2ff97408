/**
 * Upstream error bodies go through the redactor before a client sees them: a provider that
 * echoes its credential (`bad key Bearer sk-…`) must not hand it to a key holder. Redacted are
 * the secrets of the provider that answered (its api key, AWS secret access key and session
 * token, a Vertex service account's private key: everything configSecrets finds on it), the
 * credential this attempt sent (the OAuth access token the gateway minted for Vertex, a
 * Bedrock API key), in their JSON-escaped spellings too, and the redactor's known key shapes.
 * Non-2xx bodies are read whole and redacted here; of a 2xx stream only its error events are
 * (SSE here, a format's own frames by its plugin's streamErrorScreen), and every other byte
 * stays as it came. A body with nothing to redact is returned as the same bytes.
 */
import type { ProviderConfig } from '../config/schema'
import type { StreamScreen } from '../providers/types'
import { configSecrets, Redactor } from '../telemetry/redact'

/** Outbound headers that carry this attempt's credential. */
const CREDENTIAL_HEADERS = ['authorization', 'x-api-key', 'x-goog-api-key', 'x-amz-security-token', 'api-key']

const utf8 = new TextDecoder('utf-8', { fatal: true })
const encoder = new TextEncoder()

export function redactErrorBody(body: Uint8Array, provider: ProviderConfig, outbound: Headers | undefined): Uint8Array {
  if (!body.byteLength) return body
  let text: string
  try {
    text = utf8.decode(body)
  } catch {
    // Not text (no provider sends a binary error body); nothing a client could read as a key.
    return body
  }
  const redacted = new Redactor(spellings(secretsOf(provider, outbound))).text(text)
  return redacted === text ? body : encoder.encode(redacted)
}

function secretsOf(provider: ProviderConfig, outbound: Headers | undefined): string[] {
  const out = configSecrets(provider)
  for (const name of CREDENTIAL_HEADERS) {
    const v = outbound?.get(name)
    if (!v) continue
    out.push(v)
    const token = /^(?:Bearer|Basic)\s+(.+)$/i.exec(v)?.[1]
    if (token) out.push(token)
  }
  return out
}

/** Each secret as it may appear in a JSON body: raw, JSON-escaped, and a PEM key's lines one by one. */
function spellings(secrets: string[]): string[] {
  const out: string[] = []
  for (const s of secrets) {
    out.push(s)
    const escaped = JSON.stringify(s).slice(1, -1)
    if (escaped !== s) out.push(escaped, escaped.replaceAll('/', '\\/'))
    if (s.includes('\n')) for (const line of s.split(/\r?\n/)) if (line.length >= 16 && !line.startsWith('-----')) out.push(line)
  }
  return out
}

/** The redactor of one attempt's error answers, built on first use (most streams never need it). */
export interface ErrorRedaction {
  text(s: string): string
  /** The longest spelling of a secret, in bytes: a held tail this long can still hold a partial one. */
  readonly longest: number
}

export function errorRedaction(provider: ProviderConfig, outbound: Headers | undefined): ErrorRedaction {
  let redactor: Redactor | undefined
  let longest = 0
  const build = () => {
    const all = spellings(secretsOf(provider, outbound))
    for (const s of all) longest = Math.max(longest, Buffer.byteLength(s))
    return new Redactor(all)
  }
  return {
    text: (s) => (redactor ??= build()).text(s),
    get longest() {
      redactor ??= build()
      return longest
    },
  }
}

/**
 * An SSE event that reports an error: `event: error` (Anthropic, OpenAI Responses), or a
 * `data:` object with a top-level error (OpenAI, Google). Matched on a latin1 view of the bytes
 * (one character a byte, so offsets are byte offsets; the markers are ASCII).
 */
const ERROR_EVENT = /^event:[ \t]*error[ \t]*\r?$|^data:[ \t]*\{[ \t]*"(?:error"|type"[ \t]*:[ \t]*"error")/m
const ERROR_BYTES = Buffer.from('error')
const BLANK_LINE = /\r?\n\r?\n/g
/** A line longer than this cannot still become a marker line (they are short). */
const MARKER_LINE = 64
/** An error event is held whole up to this size; past it, all but a tail that may hold a partial secret is written. */
const HELD_EVENT_BYTES = 256 * 1024
const EMPTY = new Uint8Array(0)
const lenient = new TextDecoder('utf-8')

/**
 * For a 2xx SSE stream: every event passes as it came (the same chunk objects, no delay), except
 * error events, which are held from their first chunk that shows the error marker until their
 * blank line, then redacted whole, so a secret the network cut in two is still found. The bytes
 * of an event before its marker line (when the marker itself arrives split) have left already;
 * a secret is never there, it is in the message after the marker.
 */
export function sseErrorScreen(redaction: ErrorRedaction): StreamScreen {
  /** The error event being held (from where it became known), or undefined when none is. */
  let held: Uint8Array | undefined
  /** The current line's bytes already written, as latin1, while short enough to still become a marker line; undefined past that. */
  let line: string | undefined = ''

  const redactEvent = (bytes: Uint8Array): Uint8Array => {
    const text = lenient.decode(bytes)
    const out = redaction.text(text)
    return out === text ? bytes : encoder.encode(out)
  }
  /** Where the line state stands after `bytes` were written. */
  const track = (bytes: Uint8Array) => {
    // Nearly every chunk ends a line; otherwise only the bytes after the last LF are searched for a CR.
    const last = bytes[bytes.byteLength - 1]
    if (last === 10 || last === 13) {
      line = ''
      return
    }
    const b = view(bytes)
    const lf = b.lastIndexOf(10)
    const cr = b.subarray(lf + 1).lastIndexOf(13)
    const nl = cr >= 0 ? lf + 1 + cr : lf
    const tail = b.byteLength - nl - 1
    if (nl >= 0) line = tail <= MARKER_LINE ? b.toString('latin1', nl + 1) : undefined
    else if (line !== undefined) line = line.length + tail <= MARKER_LINE ? line + b.toString('latin1') : undefined
  }

  /** Bytes not inside a held event: written up to the first error event, which is held or (when whole) redacted. */
  const scan = (bytes: Uint8Array, out: Uint8Array[]): void => {
    for (;;) {
      const prefix = line ?? '\u0000'
      const text = prefix + view(bytes).toString('latin1')
      const m = ERROR_EVENT.exec(text)
      if (!m) {
        out.push(bytes)
        track(bytes)
        return
      }
      // The event starts after the last blank line before its marker (or with this chunk).
      let start = 0
      BLANK_LINE.lastIndex = 0
      for (let b = BLANK_LINE.exec(text); b && b.index < m.index; b = BLANK_LINE.exec(text)) start = b.index + b[0].length
      start = Math.max(0, start - prefix.length)
      BLANK_LINE.lastIndex = m.index
      const end = BLANK_LINE.exec(text)
      if (start) out.push(bytes.subarray(0, start))
      if (!end) {
        held = bytes.subarray(start)
        return
      }
      const stop = end.index + end[0].length - prefix.length
      out.push(redactEvent(bytes.subarray(start, stop)))
      line = ''
      bytes = bytes.subarray(stop)
      if (!bytes.byteLength) return
    }
  }

  /** More bytes of the held event: written (redacted) once its blank line is in. */
  const extend = (chunk: Uint8Array, out: Uint8Array[]): void => {
    const before = held!.byteLength
    const all = Buffer.concat([held!, chunk])
    BLANK_LINE.lastIndex = Math.max(0, before - 3)
    const end = BLANK_LINE.exec(all.toString('latin1'))
    if (end) {
      const stop = end.index + end[0].length
      held = undefined
      out.push(redactEvent(all.subarray(0, stop)))
      line = ''
      if (stop < all.byteLength) scan(all.subarray(stop), out)
      return
    }
    held = all
    if (all.byteLength > HELD_EVENT_BYTES) {
      // Redact what is held, write all but its last `longest` bytes (a secret cut there is still whole once the rest comes).
      let cut = all.byteLength
      while (cut > 0 && (all[cut - 1]! & 0xc0) === 0x80) cut--
      if (cut > 0 && all[cut - 1]! >= 0xc0) cut--
      const redacted = encoder.encode(redaction.text(lenient.decode(all.subarray(0, cut))))
      let keep = Math.max(0, redacted.byteLength - redaction.longest)
      while (keep > 0 && (redacted[keep]! & 0xc0) === 0x80) keep--
      out.push(redacted.subarray(0, keep))
      held = Buffer.concat([redacted.subarray(keep), all.subarray(cut)])
    }
  }

  return {
    push(chunk) {
      if (held === undefined && !line && view(chunk).indexOf(ERROR_BYTES) < 0) {
        track(chunk)
        return chunk
      }
      const out: Uint8Array[] = []
      if (held !== undefined) extend(chunk, out)
      else scan(chunk, out)
      if (out.length === 1 && out[0] === chunk) return chunk
      return out.length ? Buffer.concat(out) : EMPTY
    },
    end() {
      // A last error event without its blank line: written redacted.
      const rest = held && redactEvent(held)
      held = undefined
      return rest
    },
  }
}

function view(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength)
}
