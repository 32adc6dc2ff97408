/**
 * The one body change on OpenAI chat streams: `stream_options.include_usage = true`, so the
 * stream ends with a usage chunk the gateway can price. When the client set no
 * stream_options, the field is spliced into the raw bytes, leaving the rest untouched.
 */
const FIELD = new TextEncoder().encode('"stream_options":{"include_usage":true},')

export function withStreamUsage(body: Uint8Array, json: Record<string, unknown>): Uint8Array | string {
  const opts = json.stream_options
  if (opts && typeof opts === 'object' && (opts as Record<string, unknown>).include_usage === true) return body
  if (opts === undefined) {
    const at = body.indexOf(0x7b) // the opening '{'
    if (at >= 0 && Object.keys(json).length > 0) {
      const out = new Uint8Array(body.length + FIELD.length)
      out.set(body.subarray(0, at + 1))
      out.set(FIELD, at + 1)
      out.set(body.subarray(at + 1), at + 1 + FIELD.length)
      return out
    }
  }
  // stream_options is present without include_usage (or odd): rewrite that one object.
  const base = opts && typeof opts === 'object' ? opts : {}
  return JSON.stringify({ ...json, stream_options: { ...base, include_usage: true } })
}
