/**
 * Google Vertex AI: Gemini generateContent (and its stream), countTokens, cached contents and
 * batch prediction jobs, with a service account's OAuth token; and Anthropic Messages on Vertex
 * (rawPredict / streamRawPredict).
 */
import type { ProviderApi } from '../types'
import { vertexStreamFormat } from './stream-events'
import { vertexCompat } from './compat'
import { VERTEX_FORWARD_HEADERS, classifyVertex } from './endpoints'
import { anthropicErrorShape } from '../anthropic/errors'
import { isGoogleClient } from '../shared/google-errors'
import { decodePath } from '../shared/google-request'
import { isAnthropicPath } from './anthropic'
import { vertexErrorEvent, vertexErrorShape } from './errors'
import { vertexObjects } from './objects'
import { prepareVertex } from './upstream'
import { vertexJsonUsage, vertexStreamUsage } from './usage'
import { vertexTelemetry } from './telemetry'
import { checkVertexProvider } from './config-check'

export { prepareAnthropicOnVertex, vertexAnthropicBody, VERTEX_ANTHROPIC_VERSION } from './anthropic'

export const vertexApi: ProviderApi = {
  api: 'google-vertex',
  aliases: ['google-vertex'],
  defaultBaseUrl: 'https://aiplatform.googleapis.com',
  pricingProvider: 'google',
  genAiProvider: 'gcp.vertex_ai',
  errors: vertexErrorShape,
  // Anthropic-format clients (`/google-vertex/v1/messages`) get the gateway's own errors in Anthropic's shape.
  errorsFor: (path) => (isAnthropicPath(decodePath(path) ?? path) ? anthropicErrorShape : vertexErrorShape),
  streamErrorEvent: vertexErrorEvent,
  matchesHeaders: isGoogleClient,
  classify: classifyVertex,
  forwardHeaders: VERTEX_FORWARD_HEADERS,
  prepare: prepareVertex,
  compat: vertexCompat,
  jsonUsage: vertexJsonUsage,
  streamUsage: vertexStreamUsage,
  streamFormat: vertexStreamFormat,
  telemetry: vertexTelemetry,
  checkConfig: checkVertexProvider,
  objects: vertexObjects,
}
