/** Usage extraction through genai-prices' own extractors, so pricing and reading agree. */
import { extractUsage, findProvider, type Provider } from '@pydantic/genai-prices'
import type { ReportedUsage } from '../types'
import { compileExtractor, type Extract } from './compiled-usage'

const providers = new Map<string, Provider | undefined>()
/** Per provider and flavor: the compiled extractor, or the library's own call where none compiles. */
const extractors = new Map<string, Extract>()

function provider(id: string): Provider | undefined {
  if (!providers.has(id)) providers.set(id, findProvider({ providerId: id }))
  return providers.get(id)
}

function extractor(p: Provider, providerId: string, flavor: string): Extract {
  const key = `${providerId}\u0000${flavor}`
  let e = extractors.get(key)
  if (!e) extractors.set(key, (e = compileExtractor(p, flavor) ?? ((body) => extractUsage(p, body, flavor) as ReturnType<Extract>)))
  return e
}

/**
 * Reads usage from a response-shaped object (`{ model, usage }` or the provider's full body).
 * Returns undefined when the provider reported none (e.g. count_tokens, errors).
 */
export function usageFrom(providerId: string, body: unknown, flavor: string, raw: unknown): ReportedUsage | undefined {
  const p = provider(providerId)
  if (!p || !body || typeof body !== 'object') return undefined
  try {
    const u = extractor(p, providerId, flavor)(body)
    return { tokens: u.usage, raw, model: u.model ?? undefined }
  } catch {
    return undefined
  }
}
