/** Anthropic Messages: v1/messages (streams too), v1/messages/count_tokens, v1/models. */
import type { ProviderApi } from '../types'
import { anthropicStreamFormat } from './stream-events'
import { ANTHROPIC_FORWARD_HEADERS, classifyAnthropic } from './endpoints'
import { anthropicErrorShape, anthropicErrorEvent } from './errors'
import { ANTHROPIC_BASE_URL, prepareAnthropic } from './upstream'
import { anthropicJsonUsage, anthropicStreamUsage } from './usage'

export const anthropicApi: ProviderApi = {
  api: 'anthropic',
  aliases: ['anthropic'],
  defaultBaseUrl: ANTHROPIC_BASE_URL,
  pricingProvider: 'anthropic',
  errors: anthropicErrorShape,
  streamErrorEvent: anthropicErrorEvent,
  classify: classifyAnthropic,
  forwardHeaders: ANTHROPIC_FORWARD_HEADERS,
  prepare: prepareAnthropic,
  jsonUsage: (body) => anthropicJsonUsage(body),
  streamUsage: () => anthropicStreamUsage(),
  streamFormat: anthropicStreamFormat,
}
