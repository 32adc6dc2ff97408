/**
 * Google's error body, shared by the Gemini API and Vertex AI:
 * `{"error":{"code":<http status>,"message","status":"<RPC code name>"}}`. @google/genai raises an
 * ApiError carrying the HTTP status; in an `alt=sse` stream it raises on a `data:` event of that shape.
 */
import { errorHeaders, type ErrorKind, type ErrorShape, type GatewayError } from '../../errors'

const STATUS: Record<ErrorKind, string> = {
  invalid_request: 'INVALID_ARGUMENT',
  authentication: 'UNAUTHENTICATED',
  permission: 'PERMISSION_DENIED',
  not_found: 'NOT_FOUND',
  too_large: 'INVALID_ARGUMENT',
  rate_limit: 'RESOURCE_EXHAUSTED',
  quota: 'RESOURCE_EXHAUSTED',
  upstream: 'INTERNAL',
  timeout: 'DEADLINE_EXCEEDED',
  unavailable: 'UNAVAILABLE',
}

/** The RPC status name Google would give this error. */
export function googleStatus(e: GatewayError): string {
  // A gateway that could not reach the provider (502) is "unavailable" to Google clients, not "internal".
  if (e.kind === 'upstream' && e.status !== 500) return 'UNAVAILABLE'
  return STATUS[e.kind]
}

export function googleErrorBody(e: GatewayError): { error: { code: number; message: string; status: string } } {
  return { error: { code: e.status, message: e.message, status: googleStatus(e) } }
}

export const googleErrorShape: ErrorShape = {
  render(e: GatewayError): Response {
    return new Response(JSON.stringify(googleErrorBody(e)), { status: e.status, headers: errorHeaders(e) })
  },
}

/** The same error as one SSE event, the way an `alt=sse` stream reports a failure. */
export function googleErrorEvent(e: GatewayError): string {
  return `data: ${JSON.stringify(googleErrorBody(e))}\n\n`
}

/** Whether a request comes from a Google client (API key header or the SDK's telemetry header). */
export function isGoogleClient(headers: Headers): boolean {
  return headers.has('x-goog-api-key') || headers.has('x-goog-api-client')
}
