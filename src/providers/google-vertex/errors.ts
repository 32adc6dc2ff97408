/**
 * Vertex answers in Google's error shape. A stream the gateway must cut gets an error both kinds of
 * client understand, because this api serves Google and Anthropic streams alike and the error
 * event is chosen per api, not per request: first Google's `data: {"error":…}` (which @google/genai
 * raises on; Anthropic's SDK skips unnamed events), then Anthropic's `event: error` (which the
 * Google SDK skips, since it reads only `data:` events).
 */
import type { GatewayError } from '../../errors'
import { anthropicErrorEvent } from '../anthropic/errors'
import { googleErrorEvent, googleErrorShape } from '../shared/google-errors'

export const vertexErrorShape = googleErrorShape

export function vertexErrorEvent(e: GatewayError): string {
  return googleErrorEvent(e) + anthropicErrorEvent(e)
}
