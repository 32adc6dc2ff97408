/**
 * The front door's one body change: the top-level `model` value becomes the provider's own name.
 * The value's bytes are replaced in place; every other byte stays as the client sent it. The
 * body was already parsed as JSON, so the scan may assume valid JSON. Every top-level `model`
 * member is replaced (JSON.parse takes the last of duplicates, other parsers the first), and keys
 * written with escapes (`"mod\u0065l"`) count too.
 */
const QUOTE = 0x22
const BACKSLASH = 0x5c
const utf8 = new TextDecoder()
const encoder = new TextEncoder()

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09
}

/** Index just past the string token that starts at `i` (a quote): the next quote not escaped by an odd run of backslashes. */
function skipString(body: Buffer, i: number): number {
  let j = i
  for (;;) {
    j = body.indexOf(QUOTE, j + 1)
    if (j < 0) return body.length
    let k = j - 1
    while (body[k] === BACKSLASH) k--
    if ((j - 1 - k) % 2 === 0) return j + 1
  }
}

/** Index just past the value that starts at `i`. */
function skipValue(body: Buffer, i: number): number {
  if (body[i] === QUOTE) return skipString(body, i)
  let depth = 0
  for (let j = i; j < body.length; j++) {
    const b = body[j]!
    if (b === QUOTE) {
      j = skipString(body, j) - 1
      continue
    }
    if (b === 0x7b || b === 0x5b) depth++
    else if (b === 0x7d || b === 0x5d) {
      if (depth === 0) return j
      depth--
      if (depth === 0) return j + 1
    } else if (depth === 0 && (b === 0x2c || isSpace(b))) return j
  }
  return body.length
}

/** Byte ranges [start, end) of every top-level `model` member's string value. */
export function modelValueRanges(bytes: Uint8Array): [number, number][] {
  // Buffer's indexOf is a native search: strings (most of a chat body) are skipped in one call each.
  const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out: [number, number][] = []
  let i = 0
  while (i < body.length && isSpace(body[i]!)) i++
  if (body[i] !== 0x7b) return out
  i++
  for (;;) {
    while (i < body.length && (isSpace(body[i]!) || body[i] === 0x2c)) i++
    if (i >= body.length || body[i] !== QUOTE) return out
    const keyEnd = skipString(body, i)
    const raw = body.subarray(i, keyEnd)
    const key = raw.includes(BACKSLASH) ? (JSON.parse(utf8.decode(raw)) as string) : utf8.decode(raw.subarray(1, raw.length - 1))
    i = keyEnd
    while (i < body.length && (isSpace(body[i]!) || body[i] === 0x3a)) i++
    const end = skipValue(body, i)
    if (key === 'model' && body[i] === QUOTE) out.push([i, end])
    i = end
  }
}

/** The body with every top-level `model` value set to `model` (the same bytes when there is none). */
export function withModel(body: Uint8Array, model: string): Uint8Array {
  const ranges = modelValueRanges(body)
  if (!ranges.length) return body
  const value = encoder.encode(JSON.stringify(model))
  const parts: Uint8Array[] = []
  let at = 0
  for (const [s, e] of ranges) {
    parts.push(body.subarray(at, s), value)
    at = e
  }
  parts.push(body.subarray(at))
  return Buffer.concat(parts)
}
