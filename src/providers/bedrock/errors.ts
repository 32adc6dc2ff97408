/**
 * AWS's native error: `{"message": …}` with the exception name in `x-amzn-errortype`, which
 * the AWS SDKs turn into their typed exceptions (ValidationException, ThrottlingException, …).
 */
import { EventStreamCodec } from '@smithy/eventstream-codec'
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

const codec = new EventStreamCodec(
  (b) => new TextDecoder().decode(b),
  (s) => new TextEncoder().encode(s),
)

/**
 * The frame that ends a native Bedrock stream the gateway must cut (a stall, an upstream
 * failure): an event-stream exception message, which the AWS SDKs raise as the typed
 * exception of the stream's union (`modelStreamErrorException`, `internalServerException`).
 */
export function bedrockErrorFrame(e: GatewayError): Uint8Array {
  const type = e.kind === 'timeout' ? 'modelStreamErrorException' : 'internalServerException'
  return codec.encode({
    headers: {
      ':message-type': { type: 'string', value: 'exception' },
      ':exception-type': { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    body: new TextEncoder().encode(JSON.stringify({ message: e.message })),
  })
}
