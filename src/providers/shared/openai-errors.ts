/** The OpenAI error body, which Groq and other OpenAI-compatible APIs share. */
import { errorHeaders, type ErrorKind, type ErrorShape, type GatewayError } from '../../errors'

const TYPES: Record<ErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'invalid_request_error',
  permission: 'permission_error',
  not_found: 'invalid_request_error',
  too_large: 'invalid_request_error',
  rate_limit: 'rate_limit_exceeded',
  quota: 'insufficient_quota',
  upstream: 'server_error',
  timeout: 'server_error',
  unavailable: 'server_error',
}

export const openAiErrorShape: ErrorShape = {
  render(e: GatewayError): Response {
    const body = { error: { message: e.message, type: TYPES[e.kind], param: null, code: e.code } }
    return new Response(JSON.stringify(body), { status: e.status, headers: errorHeaders(e) })
  },
}

/** OpenAI streams report a failure as a data line carrying an error object. */
export function openAiErrorEvent(e: GatewayError): string {
  return `data: ${JSON.stringify({ error: { message: e.message, type: TYPES[e.kind], param: null, code: e.code } })}\n\n`
}
