/**
 * Every provider API plugin, by its config `api` name (add a new api here), and the one entry
 * the core reaches src/providers through (beside types.ts): the front door's format and the
 * table machinery's path and model-name rules.
 */
import type { ErrorShape } from '../errors'
import type { ProviderApi } from './types'
import { openAiApi } from './openai'
import { anthropicApi } from './anthropic'
import { groqApi } from './groq'
import { vertexApi } from './google-vertex'
import { geminiApi } from './gemini'
import { bedrockApi } from './bedrock'

export { FRONT_DOOR_API, compatTargetApi, frontDoorClient, frontDoorOperation } from './openai-compat'
export { boundedModel, normalizePath } from './shared/endpoints'

export const PROVIDER_APIS: Record<string, ProviderApi> = {
  [openAiApi.api]: openAiApi,
  [anthropicApi.api]: anthropicApi,
  [groqApi.api]: groqApi,
  [vertexApi.api]: vertexApi,
  [geminiApi.api]: geminiApi,
  [bedrockApi.api]: bedrockApi,
}

export function providerApi(api: string): ProviderApi | undefined {
  return PROVIDER_APIS[api]
}

/**
 * The error shape for a request whose route is unknown: by route name first, then by
 * the headers the provider's SDK sends. OpenAI's is the lingua franca otherwise.
 */
export function shapeFor(routeName: string, headers: Headers): ErrorShape {
  for (const api of Object.values(PROVIDER_APIS)) if (api.aliases.includes(routeName)) return api.errors
  if (headers.has('anthropic-version') || headers.has('x-api-key')) return anthropicApi.errors
  for (const api of Object.values(PROVIDER_APIS)) if (api.matchesHeaders?.(headers)) return api.errors
  return openAiApi.errors
}
