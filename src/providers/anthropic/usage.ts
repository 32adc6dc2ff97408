/**
 * Anthropic usage. JSON: the body's `usage`. Streams: `message_start` carries input and
 * cache tokens; each `message_delta` carries cumulative output (and, on newer models,
 * updated input) counts, which overlay it.
 */
import type { ReportedUsage, StreamUsageReader } from '../types'
import { usageFrom } from '../shared/usage'
import { tryParse } from '../shared/openai-stream-usage'

export function anthropicJsonUsage(body: unknown, providerId = 'anthropic', flavor = 'default'): ReportedUsage | undefined {
  const b = body as { usage?: unknown } | undefined
  return b?.usage ? usageFrom(providerId, body, flavor, b.usage) : undefined
}

/** Reads one Anthropic event payload; also used for Anthropic streams on Vertex and Bedrock. */
export function anthropicStreamUsage(providerId = 'anthropic', flavor = 'default'): StreamUsageReader & { payload(ev: Record<string, unknown>): void } {
  let usage: Record<string, unknown> | undefined
  let model: string | undefined
  const payload = (ev: Record<string, unknown>) => {
    if (ev.type === 'message_start') {
      const msg = ev.message as { usage?: Record<string, unknown>; model?: string } | undefined
      model = msg?.model
      usage = { ...msg?.usage }
    } else if (ev.type === 'message_delta' && ev.usage && typeof ev.usage === 'object') {
      usage = { ...usage }
      for (const [k, v] of Object.entries(ev.usage)) if (v !== null && v !== undefined) usage[k] = v
    }
  }
  return {
    payload,
    event(name, data) {
      if (name !== undefined && name !== 'message_start' && name !== 'message_delta') return
      const ev = tryParse(data)
      if (ev) payload(ev)
    },
    result: () => (usage ? usageFrom(providerId, { model, usage }, flavor, usage) : undefined),
  }
}
