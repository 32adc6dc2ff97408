/** Anthropic Messages: v1/messages (streams too), v1/messages/count_tokens, v1/models. */
import type { ProviderApi } from '../types'
import { anthropicStreamFormat } from './stream-events'
import { anthropicCompat } from './compat'
import { ANTHROPIC_FORWARD_HEADERS, classifyAnthropic } from './endpoints'
import { anthropicErrorShape, anthropicErrorEvent } from './errors'
import { ANTHROPIC_BASE_URL, prepareAnthropic } from './upstream'
import { anthropicJsonUsage, anthropicStreamUsage } from './usage'
import { anthropicObjects } from './objects'
import { anthropicTelemetry } from './telemetry'

export const anthropicApi: ProviderApi = {
  api: 'anthropic',
  aliases: ['anthropic'],
  defaultBaseUrl: ANTHROPIC_BASE_URL,
  pricingProvider: 'anthropic',
  genAiProvider: 'anthropic',
  errors: anthropicErrorShape,
  streamErrorEvent: anthropicErrorEvent,
  classify: classifyAnthropic,
  forwardHeaders: ANTHROPIC_FORWARD_HEADERS,
  prepare: prepareAnthropic,
  compat: anthropicCompat,
  jsonUsage: (body) => anthropicJsonUsage(body),
  streamUsage: () => anthropicStreamUsage(),
  streamFormat: anthropicStreamFormat,
  telemetry: () => anthropicTelemetry,
  objects: anthropicObjects,
}
