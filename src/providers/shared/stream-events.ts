/** Helpers the formats' stream-events files share: counting string fields without parsing JSON. */
import type { StreamTerminal } from '../types'

/** A regex over JSON string fields named `names`; group 1 is the (still escaped) value. */
export function stringFields(...names: string[]): RegExp {
  return new RegExp(`"(?:${names.join('|')})"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)"`, 'g')
}

/** Characters in every match of `fields` in `data` (escapes count as written: an estimate). */
export function charsOf(fields: RegExp, data: string): number {
  let n = 0
  for (const m of data.matchAll(fields)) n += m[1]!.length
  return n
}

/** A terminal watcher over one test per event: done once any event passes it. */
export function terminalWhen(isTerminal: (name: string | undefined, data: string) => boolean): () => StreamTerminal {
  return () => {
    let complete = false
    return {
      event(name, data) {
        if (!complete && isTerminal(name, data)) complete = true
      },
      get complete() {
        return complete
      },
    }
  }
}

export function parseObject(s: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(s)
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
