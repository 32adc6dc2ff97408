/**
 * One provider behind the front door: its own OpenAI-compatible endpoint (ProviderApi.compat),
 * reached with the client's body and only `model` changed; usage is read in OpenAI's format and
 * priced as the provider's (its pricingProvider). Made per request, for the model it resolved.
 */
import { openAiErrorEvent, openAiErrorShape } from '../shared/openai-errors'
import { openAiJsonUsage, openAiStreamUsage } from '../openai/usage'
import { openAiStreamFormat } from '../openai/stream-events'
import { withStreamUsage } from '../openai/stream-options'
import type { CompatEndpoint, CompatModel, CompatOperation, ProviderApi, UpstreamRequest } from '../types'
import { FRONT_DOOR_FORWARD_HEADERS } from './endpoints'
import { withModel } from './model-field'
import { frontDoorTelemetry } from './telemetry'

export function compatTargetApi(native: ProviderApi & { compat: CompatEndpoint }, op: CompatOperation, served: CompatModel): ProviderApi {
  const flavor = op === 'chat' ? 'chat' : 'embeddings'
  return {
    api: native.api,
    aliases: [],
    defaultBaseUrl: native.defaultBaseUrl,
    pricingProvider: native.pricingProvider,
    errors: openAiErrorShape,
    streamErrorEvent: openAiErrorEvent,
    forwardHeaders: FRONT_DOOR_FORWARD_HEADERS,
    async prepare(req, provider): Promise<UpstreamRequest> {
      const json = req.json ?? {}
      const stream = op === 'chat' && json.stream === true
      let body: Uint8Array | string = req.body ? withModel(req.body, served.body) : ''
      // As on the openai route: streams end with a usage chunk the gateway can price.
      if (stream && body instanceof Uint8Array) body = withStreamUsage(body, { ...json, model: served.body })
      const { url, headers } = await native.compat.request(op, provider, body)
      return { url, method: 'POST', headers, body, model: served.model, stream, flavor, operation: op }
    },
    jsonUsage: openAiJsonUsage,
    streamUsage: openAiStreamUsage,
    streamFormat: openAiStreamFormat,
    telemetry: frontDoorTelemetry,
  }
}
