/** Groq: OpenAI-compatible chat under `/groq/openai/v1/…`. */
import type { ProviderApi } from '../types'
import { groqStreamFormat } from './stream-events'
import { groqCompat } from './compat'
import { GROQ_FORWARD_HEADERS, classifyGroq } from './endpoints'
import { groqErrorShape, groqErrorEvent } from './errors'
import { GROQ_BASE_URL, prepareGroq } from './upstream'
import { groqJsonUsage, groqStreamUsage } from './usage'
import { groqObjects } from './objects'
import { groqTelemetry } from './telemetry'

export const groqApi: ProviderApi = {
  api: 'groq',
  aliases: ['groq'],
  defaultBaseUrl: GROQ_BASE_URL,
  pricingProvider: 'groq',
  genAiProvider: 'groq',
  errors: groqErrorShape,
  streamErrorEvent: groqErrorEvent,
  classify: classifyGroq,
  forwardHeaders: GROQ_FORWARD_HEADERS,
  prepare: prepareGroq,
  compat: groqCompat,
  jsonUsage: groqJsonUsage,
  streamUsage: groqStreamUsage,
  streamFormat: groqStreamFormat,
  telemetry: groqTelemetry,
  objects: groqObjects,
}
