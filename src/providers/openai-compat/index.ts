/**
 * The front door's format: OpenAI's Chat Completions and Embeddings at `/v1/…` for every
 * provider, forwarded to each provider's own OpenAI-compatible endpoint (no translation).
 * Not a config `api`: the core builds a per-request route from the body's `route:model`
 * (src/proxy/frontdoor.ts); this is the client side of it (error shape, table, stream errors).
 */
import { NotFoundError } from '../../errors'
import { openAiErrorEvent, openAiErrorShape } from '../shared/openai-errors'
import { openAiJsonUsage, openAiStreamUsage } from '../openai/usage'
import { openAiStreamFormat } from '../openai/stream-events'
import type { ProviderApi } from '../types'
import { FRONT_DOOR_FORWARD_HEADERS, classifyFrontDoor } from './endpoints'
import { frontDoorTelemetry } from './telemetry'

export { compatTargetApi } from './target'
export { frontDoorOperation } from './endpoints'

export const FRONT_DOOR_API: ProviderApi = {
  api: 'openai-compat',
  aliases: [],
  defaultBaseUrl: '',
  pricingProvider: 'openai',
  errors: openAiErrorShape,
  streamErrorEvent: openAiErrorEvent,
  forwardHeaders: FRONT_DOOR_FORWARD_HEADERS,
  classify: () => undefined,
  prepare() {
    throw new NotFoundError('The front door forwards through its targets only.', 'unknown_url')
  },
  jsonUsage: openAiJsonUsage,
  streamUsage: openAiStreamUsage,
  streamFormat: openAiStreamFormat,
  telemetry: frontDoorTelemetry,
}

/** The front door's client side for one request, classifying with the model it resolved. */
export function frontDoorClient(model: string): ProviderApi {
  return { ...FRONT_DOOR_API, classify: (req) => classifyFrontDoor(req, model) }
}
