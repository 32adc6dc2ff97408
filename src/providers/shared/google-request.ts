/** Request pieces the Gemini API and Vertex share: model methods, model ids, the `key=` query parameter. */

/** What a `models/{model}:{method}` call is, for streams, telemetry and pricing. */
export interface GoogleMethod {
  stream: boolean
  operation: string
}

const METHODS: Record<string, GoogleMethod> = {
  generateContent: { stream: false, operation: 'chat' },
  streamGenerateContent: { stream: true, operation: 'chat' },
  countTokens: { stream: false, operation: 'count_tokens' },
  computeTokens: { stream: false, operation: 'count_tokens' },
  embedContent: { stream: false, operation: 'embeddings' },
  batchEmbedContents: { stream: false, operation: 'embeddings' },
  predict: { stream: false, operation: 'predict' },
}

export function googleMethod(name: string): GoogleMethod | undefined {
  return Object.hasOwn(METHODS, name) ? METHODS[name] : undefined
}

/** Model ids as Google spells them (`gemini-2.5-flash`, `claude-sonnet-4-5@20250929`); nothing that could change the path. */
export const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._@-]*$/

/** Percent-decodes a path (clients may send `%3A` for `:`), or undefined when it is malformed. */
export function decodePath(path: string): string | undefined {
  try {
    return decodeURIComponent(path)
  } catch {
    return undefined
  }
}

/**
 * Drops `key=` from a query string: the provider's key travels in a header, and a gateway key a
 * client put in the URL must never reach the provider.
 */
export function withoutKeyParam(search: string): string {
  if (!/[?&]key=/.test(search)) return search
  const params = new URLSearchParams(search)
  params.delete('key')
  const rest = params.toString()
  return rest ? `?${rest}` : ''
}
