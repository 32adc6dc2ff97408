/**
 * Finds the top-level members of a JSON object in its raw bytes, so one member can be removed,
 * replaced or added without re-serialising the rest (numbers, escapes and key order stay as the
 * client sent them). The bytes must already be known to be valid JSON. Strings, where a large
 * body spends most of its length, are skipped with the native indexOf.
 */

export interface Member {
  key: string
  /** Offset of the key's opening quote. */
  start: number
  /** Offset of the value's first byte. */
  valueStart: number
  /** Offset just past the value. */
  end: number
}

export interface ObjectLayout {
  /** Offset just past the opening `{`. */
  open: number
  members: Member[]
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a
const COMMA = 0x2c
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const decoder = new TextDecoder()

export function objectLayout(b: Uint8Array): ObjectLayout | undefined {
  let i = skipWs(b, 0)
  if (b[i] !== OPEN_OBJECT) return undefined
  const open = i + 1
  const members: Member[] = []
  i = skipWs(b, open)
  if (b[i] === CLOSE_OBJECT) return { open, members }
  for (;;) {
    if (b[i] !== QUOTE) return undefined
    const start = i
    const keyEnd = skipString(b, i)
    const key = JSON.parse(decoder.decode(b.subarray(start, keyEnd))) as string
    i = skipWs(b, keyEnd)
    if (b[i] !== COLON) return undefined
    const valueStart = skipWs(b, i + 1)
    const end = skipValue(b, valueStart)
    members.push({ key, start, valueStart, end })
    i = skipWs(b, end)
    if (b[i] === COMMA) i = skipWs(b, i + 1)
    else if (b[i] === CLOSE_OBJECT) return { open, members }
    else return undefined
  }
}

function isWs(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

function skipWs(b: Uint8Array, i: number): number {
  while (i < b.length && isWs(b[i])) i++
  return i
}

/** From an opening quote to just past the closing one (a quote after an odd run of backslashes is escaped). */
function skipString(b: Uint8Array, i: number): number {
  let from = i + 1
  for (;;) {
    const q = b.indexOf(QUOTE, from)
    if (q < 0) return b.length
    let slashes = 0
    while (b[q - 1 - slashes] === BACKSLASH) slashes++
    if (slashes % 2 === 0) return q + 1
    from = q + 1
  }
}

function skipValue(b: Uint8Array, i: number): number {
  const c = b[i]
  if (c === QUOTE) return skipString(b, i)
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
    let depth = 0
    while (i < b.length) {
      const ch = b[i]
      if (ch === QUOTE) {
        i = skipString(b, i)
        continue
      }
      if (ch === OPEN_OBJECT || ch === OPEN_ARRAY) depth++
      else if (ch === CLOSE_OBJECT || ch === CLOSE_ARRAY) {
        depth--
        if (depth === 0) return i + 1
      }
      i++
    }
    return i
  }
  // Number, true, false, null: up to the next delimiter.
  while (i < b.length && b[i] !== COMMA && b[i] !== CLOSE_OBJECT && b[i] !== CLOSE_ARRAY && !isWs(b[i])) i++
  return i
}
