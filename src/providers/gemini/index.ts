/** The Gemini API (generativelanguage): generateContent and its stream, countTokens, embedContent, models. */
import type { ProviderApi } from '../types'
import { isGoogleClient } from '../shared/google-errors'
import { geminiErrorEvent, geminiErrorShape } from './errors'
import { GEMINI_BASE_URL, prepareGemini } from './upstream'
import { geminiJsonUsage, geminiStreamUsage } from './usage'

export const geminiApi: ProviderApi = {
  api: 'gemini',
  aliases: ['gemini', 'google'],
  defaultBaseUrl: GEMINI_BASE_URL,
  pricingProvider: 'google',
  errors: geminiErrorShape,
  streamErrorEvent: geminiErrorEvent,
  matchesHeaders: isGoogleClient,
  prepare: prepareGemini,
  jsonUsage: (body) => geminiJsonUsage(body),
  streamUsage: () => geminiStreamUsage(),
}
