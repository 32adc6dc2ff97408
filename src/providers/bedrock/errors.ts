/**
 * AWS's native error: `{"message": …}` with the exception name in `x-amzn-errortype`, which
 * the AWS SDKs turn into their typed exceptions (ValidationException, ThrottlingException, …).
 */
import { errorHeaders, type ErrorKind, type ErrorShape, type GatewayError } from '../../errors'

export const AWS_ERROR_TYPES: Record<ErrorKind, string> = {
  invalid_request: 'ValidationException',
  // What AWS itself answers for a credential it does not know.
  authentication: 'UnrecognizedClientException',
  permission: 'AccessDeniedException',
  not_found: 'ResourceNotFoundException',
  too_large: 'ValidationException',
  rate_limit: 'ThrottlingException',
  quota: 'ServiceQuotaExceededException',
  upstream: 'InternalServerException',
  timeout: 'ModelTimeoutException',
  unavailable: 'ServiceUnavailableException',
}

export const bedrockErrorShape: ErrorShape = {
  render(e: GatewayError): Response {
    const headers = errorHeaders(e)
    headers.set('x-amzn-errortype', AWS_ERROR_TYPES[e.kind])
    return new Response(JSON.stringify({ message: e.message }), { status: e.status, headers })
  },
}
