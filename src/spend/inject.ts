/**
 * The documented body change of `inject_cost = true`: the request's cost in USD is added as
 * `"cost"` to the top-level `usage` object of a non-streamed JSON response (as PAIG does),
 * spliced into the bytes as received; nothing else in the body is re-serialised.
 */
const enc = new TextEncoder()
const dec = new TextDecoder()

/** The body with `"cost":<usd>,` inserted at the start of the top-level usage object, or undefined if it has none. */
export function injectCost(body: Uint8Array, usd: string): Uint8Array | undefined {
  const text = dec.decode(body)
  const at = topLevelObjectValue(text, 'usage')
  if (at < 0) return undefined
  const rest = text.slice(at + 1)
  const sep = /^\s*}/.test(rest) ? '' : ','
  return enc.encode(`${text.slice(0, at + 1)}"cost":${usd}${sep}${rest}`)
}

/** Index of the `{` that opens `"key": {…}` at depth 1 of a JSON object text, or -1. */
function topLevelObjectValue(s: string, key: string): number {
  let depth = 0
  let found = -1
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c === '"') {
      const start = i
      for (i++; i < s.length && s[i] !== '"'; i++) if (s[i] === '\\') i++
      if (depth === 1 && s.slice(start + 1, i) === key) {
        let j = i + 1
        while (j < s.length && /\s/.test(s[j]!)) j++
        if (s[j] !== ':') continue
        j++
        while (j < s.length && /\s/.test(s[j]!)) j++
        if (s[j] === '{') found = j
      }
    } else if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') depth--
  }
  return found
}
