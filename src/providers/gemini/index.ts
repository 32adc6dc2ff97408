/** The Gemini API (generativelanguage): generateContent and its stream, countTokens, embedContent, models, resumable uploads. */
import type { ProviderApi } from '../types'
import { geminiStreamFormat } from './stream-events'
import { geminiCompat } from './compat'
import { GEMINI_FORWARD_HEADERS, GEMINI_FORWARD_PREFIXES, classifyGemini } from './endpoints'
import { isGoogleClient } from '../shared/google-errors'
import { geminiErrorEvent, geminiErrorShape } from './errors'
import { GEMINI_BASE_URL, prepareGemini } from './upstream'
import { geminiJsonUsage, geminiStreamUsage } from './usage'
import { geminiObjects } from './objects'
import { geminiTelemetry } from './telemetry'

export const geminiApi: ProviderApi = {
  api: 'gemini',
  aliases: ['gemini', 'google'],
  defaultBaseUrl: GEMINI_BASE_URL,
  pricingProvider: 'google',
  genAiProvider: 'gcp.gemini',
  errors: geminiErrorShape,
  streamErrorEvent: geminiErrorEvent,
  matchesHeaders: isGoogleClient,
  // Upload bytes are the file's, sent as application/json by the SDKs all the same.
  opaqueBody: (path) => path.startsWith('upload/'),
  classify: classifyGemini,
  forwardHeaders: [...GEMINI_FORWARD_HEADERS, ...GEMINI_FORWARD_PREFIXES.map((p) => `${p}*`)],
  prepare: prepareGemini,
  compat: geminiCompat,
  jsonUsage: (body) => geminiJsonUsage(body),
  streamUsage: () => geminiStreamUsage(),
  streamFormat: geminiStreamFormat,
  telemetry: geminiTelemetry,
  objects: geminiObjects,
}
