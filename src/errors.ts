/**
 * Errors the gateway itself raises. Each carries an HTTP status and a stable `code`
 * (explicit, because `bun build --minify` mangles class names). A provider's error
 * shape turns one into a Response with `renderIn(shape, redact)`, so the client's own SDK
 * raises its usual exception type.
 */

/** The provider-neutral kind of failure; shapes map it to their own vocabulary. */
export type ErrorKind =
  | 'invalid_request'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'too_large'
  | 'rate_limit'
  | 'quota'
  | 'upstream'
  | 'timeout'
  | 'unavailable'

/** Renders a gateway error in one provider's native error body and headers. */
export interface ErrorShape {
  render(error: GatewayError): Response
}

export class GatewayError extends Error {
  readonly status: number
  readonly code: string
  readonly kind: ErrorKind
  /** Extra headers, e.g. retry-after on limits. */
  readonly headers: Record<string, string>
  /** Whether the client's SDK should retry (drives x-should-retry). */
  readonly retryable: boolean

  constructor(
    kind: ErrorKind,
    status: number,
    code: string,
    message: string,
    opts: { headers?: Record<string, string>; retryable?: boolean } = {},
  ) {
    super(message)
    this.kind = kind
    this.status = status
    this.code = code
    this.headers = opts.headers ?? {}
    this.retryable = opts.retryable ?? false
  }

  /** `redact`: the gateway's redactor, since a message may echo client input (a model or route name that is really a key). */
  renderIn(shape: ErrorShape, redact?: (message: string) => string): Response {
    if (redact) this.message = redact(this.message)
    return shape.render(this)
  }
}

export class InvalidRequestError extends GatewayError {
  constructor(message: string, code = 'invalid_request') {
    super('invalid_request', 400, code, message)
  }
}

export class AuthenticationError extends GatewayError {
  constructor(message = 'Invalid or missing gateway key.', code = 'invalid_api_key') {
    super('authentication', 401, code, message)
  }
}

export class PermissionError extends GatewayError {
  constructor(message: string, code = 'permission_denied') {
    super('permission', 403, code, message)
  }
}

export class NotFoundError extends GatewayError {
  constructor(message: string, code = 'not_found') {
    super('not_found', 404, code, message)
  }
}

export class PayloadTooLargeError extends GatewayError {
  constructor(limit: number) {
    super('too_large', 413, 'request_too_large', `Request body exceeds the gateway's limit of ${limit} bytes.`)
  }
}

/** The client did not send its whole body in time (`server.body_timeout_seconds`); the connection is closed after. */
export class RequestTimeoutError extends GatewayError {
  constructor(seconds: number) {
    super('invalid_request', 408, 'request_timeout', `The request body did not arrive within ${seconds} s; the connection is closed.`, {
      headers: { connection: 'close' },
    })
  }
}

export class ProviderUnavailableError extends GatewayError {
  constructor(message: string, code = 'provider_unavailable') {
    super('unavailable', 503, code, message, { retryable: false })
  }
}

export class UpstreamError extends GatewayError {
  constructor(message: string, code = 'upstream_unreachable') {
    super('upstream', 502, code, message, { retryable: true })
  }
}

export class UpstreamTimeoutError extends GatewayError {
  constructor(message: string) {
    super('timeout', 504, 'upstream_timeout', message, { retryable: true })
  }
}

/** Headers every gateway error carries: JSON, and whether an SDK should retry. */
export function errorHeaders(error: GatewayError, contentType = 'application/json'): Headers {
  const h = new Headers({ 'content-type': contentType, 'x-should-retry': String(error.retryable) })
  for (const [k, v] of Object.entries(error.headers)) h.set(k, v)
  return h
}
