/** Small readers shared by the formats' object files (src/providers/<api>/objects.ts). */

export function record(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined
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
