/** Groq: OpenAI-compatible chat under `/groq/openai/v1/…`. */
import type { ProviderApi } from '../types'
import { groqErrorShape, groqErrorEvent } from './errors'
import { GROQ_BASE_URL, prepareGroq } from './upstream'
import { groqJsonUsage, groqStreamUsage } from './usage'
import { groqObjects } from './objects'

export const groqApi: ProviderApi = {
  api: 'groq',
  aliases: ['groq'],
  defaultBaseUrl: GROQ_BASE_URL,
  pricingProvider: 'groq',
  errors: groqErrorShape,
  streamErrorEvent: groqErrorEvent,
  prepare: prepareGroq,
  jsonUsage: groqJsonUsage,
  streamUsage: groqStreamUsage,
  objects: groqObjects,
}
