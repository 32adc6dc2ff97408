/** OpenAI: Chat Completions, Responses, embeddings and everything else under the same base. */
import type { ProviderApi } from '../types'
import { openAiStreamFormat } from './stream-events'
import { openAiCompat } from './compat'
import { OPENAI_FORWARD_HEADERS, classifyOpenAi } from './endpoints'
import { openAiErrorShape, openAiErrorEvent } from './errors'
import { OPENAI_BASE_URL, prepareOpenAi } from './upstream'
import { openAiJsonUsage, openAiStreamUsage } from './usage'
import { openAiObjects } from './objects'
import { openAiTelemetry } from './telemetry'

export const openAiApi: ProviderApi = {
  api: 'openai',
  aliases: ['openai', 'chat', 'openai-chat', 'responses', 'openai-responses'],
  defaultBaseUrl: OPENAI_BASE_URL,
  pricingProvider: 'openai',
  genAiProvider: 'openai',
  errors: openAiErrorShape,
  streamErrorEvent: openAiErrorEvent,
  classify: classifyOpenAi,
  forwardHeaders: OPENAI_FORWARD_HEADERS,
  prepare: prepareOpenAi,
  compat: openAiCompat,
  jsonUsage: openAiJsonUsage,
  streamUsage: openAiStreamUsage,
  streamFormat: openAiStreamFormat,
  telemetry: openAiTelemetry,
  objects: openAiObjects,
}
