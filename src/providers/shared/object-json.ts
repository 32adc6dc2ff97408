/** Small readers shared by the formats' object files (src/providers/<api>/objects.ts). */

export function record(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined
}

/** The non-empty strings of an array (a list of ids); none for anything else. */
export function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.length > 0) : []
}

/** Epoch seconds (OpenAI) to ms; absent or null stays absent. */
export function secondsToMs(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v * 1000 : undefined
}

/** An RFC 3339 instant (Anthropic, Google) to ms. */
export function instantToMs(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined
  const ms = Date.parse(v)
  return Number.isFinite(ms) ? ms : undefined
}

export const DAY_MS = 86_400_000

/** `json[field]` with only the array items whose id `keep` accepts; undefined when that field is not an array. */
export function filterArray(json: unknown, field: string, idOf: (item: unknown) => string | undefined, keep: (id: string) => boolean): unknown {
  const body = record(json)
  const items = body?.[field]
  if (!Array.isArray(items)) return undefined
  return {
    ...body,
    [field]: items.filter((item) => {
      const id = idOf(item)
      return id !== undefined && keep(id)
    }),
  }
}

/**
 * Every string value under one of `keys`, anywhere in `json` (arrays and objects, depth-first).
 * For the ids a request body names (file ids in message parts, a batch's requests). No depth
 * or node cap: a cap would let padding hide an id; the body is bounded by `server.max_body_bytes`
 * and was parsed whole already.
 */
export function stringsUnder(json: unknown, keys: ReadonlySet<string>): string[] {
  const out: string[] = []
  const stack: unknown[] = [json]
  while (stack.length) {
    const v = stack.pop()
    if (Array.isArray(v)) {
      for (const x of v) if (x && typeof x === 'object') stack.push(x)
      continue
    }
    if (!v || typeof v !== 'object') continue
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (typeof x === 'string') {
        if (keys.has(k) && x) out.push(x)
      } else if (x && typeof x === 'object') {
        if (keys.has(k) && Array.isArray(x)) for (const s of x) if (typeof s === 'string' && s) out.push(s)
        stack.push(x)
      }
    }
  }
  return out
}
