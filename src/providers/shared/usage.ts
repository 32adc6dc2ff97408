/** Usage extraction through genai-prices' own extractors, so pricing and reading agree. */
import { extractUsage, findProvider, type Provider } from '@pydantic/genai-prices'
import type { ReportedUsage } from '../types'

const providers = new Map<string, Provider | undefined>()

function provider(id: string): Provider | undefined {
  if (!providers.has(id)) providers.set(id, findProvider({ providerId: id }))
  return providers.get(id)
}

/**
 * Reads usage from a response-shaped object (`{ model, usage }` or the provider's full body).
 * Returns undefined when the provider reported none (e.g. count_tokens, errors).
 */
export function usageFrom(providerId: string, body: unknown, flavor: string, raw: unknown): ReportedUsage | undefined {
  const p = provider(providerId)
  if (!p || !body || typeof body !== 'object') return undefined
  try {
    const u = extractUsage(p, body, flavor)
    return { tokens: { ...u.usage }, raw, model: u.model ?? undefined }
  } catch {
    return undefined
  }
}
