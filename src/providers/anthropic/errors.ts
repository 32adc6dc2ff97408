/** Anthropic's native error body: `{"type":"error","error":{"type","message"}}`. */
import { errorHeaders, type ErrorKind, type ErrorShape, type GatewayError } from '../../errors'

const TYPES: Record<ErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  too_large: 'request_too_large',
  rate_limit: 'rate_limit_error',
  quota: 'billing_error',
  upstream: 'api_error',
  timeout: 'api_error',
  unavailable: 'overloaded_error',
}

export const anthropicErrorShape: ErrorShape = {
  render(e: GatewayError): Response {
    const body = { type: 'error', error: { type: TYPES[e.kind], message: e.message } }
    // Anthropic answers an exhausted balance with 402 billing_error (spend limits, credits).
    return new Response(JSON.stringify(body), { status: e.kind === 'quota' ? 402 : e.status, headers: errorHeaders(e) })
  },
}

/** The same error as one SSE event, for a stream that must end with an error. */
export function anthropicErrorEvent(e: GatewayError): string {
  return `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: TYPES[e.kind], message: e.message } })}\n\n`
}
