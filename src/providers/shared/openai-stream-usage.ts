/**
 * Usage from OpenAI-format SSE: the chat `usage` chunk (or Groq's `x_groq.usage`), and
 * the Responses API's terminal `response.completed` / `.incomplete` / `.failed` event.
 */
import type { ReportedUsage, StreamUsageReader } from '../types'
import { usageFrom } from './usage'

/**
 * A chunk that reports usage (`"usage": {…}`, Groq's inside `x_groq`). With include_usage set,
 * OpenAI sends `"usage": null` in every other chunk: those are not worth a parse.
 */
const REPORTS_USAGE = /"usage"\s*:\s*\{/

export function chatStreamUsage(providerId: string, flavor: string): StreamUsageReader {
  let usage: unknown
  let model: string | undefined
  return {
    event(_name, data) {
      // Cheap pre-check: only the final chunk(s) carry usage; skip parsing the rest.
      if (!data.includes('"usage"') || !REPORTS_USAGE.test(data)) {
        if (!model && data.includes('"model"')) model = tryParse(data)?.model as string | undefined
        return
      }
      const chunk = tryParse(data)
      if (!chunk) return
      if (typeof chunk.model === 'string') model = chunk.model
      const u = chunk.usage ?? (chunk.x_groq as { usage?: unknown } | undefined)?.usage
      if (u && typeof u === 'object') usage = u
    },
    result(): ReportedUsage | undefined {
      return usage ? usageFrom(providerId, { model, usage }, flavor, usage) : undefined
    },
  }
}

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed'])

export function responsesStreamUsage(providerId: string): StreamUsageReader {
  let out: ReportedUsage | undefined
  return {
    event(name, data) {
      if (name !== undefined && !TERMINAL.has(name)) return
      if (name === undefined && !data.includes('"response.')) return
      const ev = tryParse(data)
      if (!ev || !TERMINAL.has(ev.type as string)) return
      const resp = ev.response as { usage?: unknown; model?: string } | undefined
      if (resp?.usage) out = usageFrom(providerId, resp, 'responses', resp.usage)
    },
    result: () => out,
  }
}

export function tryParse(s: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(s)
    return v && typeof v === 'object' ? v : undefined
  } catch {
    return undefined
  }
}
