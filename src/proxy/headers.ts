/** Which headers cross the gateway, in each direction. */
import { VERSION } from '../version'

/** Client headers that may reach the upstream. Everything else, credentials included, stays here. */
const FORWARD = new Set([
  'accept',
  'content-type',
  'anthropic-version',
  'anthropic-beta',
  'openai-beta',
  'idempotency-key',
  'traceparent',
  'tracestate',
  'x-goog-api-client',
])
/** SDK telemetry headers (retry count, runtime); harmless and useful to the provider. */
const FORWARD_PREFIXES = ['x-stainless-']

const USER_AGENT_SUFFIX = `tollgate/${VERSION}`

export function upstreamHeaders(client: Headers, own: Record<string, string>, stream: boolean): Headers {
  const out = new Headers()
  for (const [name, value] of client) {
    if (FORWARD.has(name) || FORWARD_PREFIXES.some((p) => name.startsWith(p))) out.set(name, value)
  }
  const ua = client.get('user-agent')
  out.set('user-agent', ua ? `${ua} ${USER_AGENT_SUFFIX}` : USER_AGENT_SUFFIX)
  // No compressor may hold stream chunks back; plain JSON may come compressed.
  out.set('accept-encoding', stream ? 'identity' : 'gzip, deflate, br')
  for (const [name, value] of Object.entries(own)) out.set(name, value)
  return out
}

/** Upstream response headers the client must not see: hop-by-hop, re-encoded, or the provider's account ids. */
const DROP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'content-encoding',
  'content-length',
  'alt-svc',
  'set-cookie',
  'openai-organization',
  'openai-project',
  'anthropic-organization-id',
  'x-goog-user-project',
])

export function responseHeaders(upstream: Headers, requestId: string): Headers {
  const out = new Headers()
  for (const [name, value] of upstream) if (!DROP.has(name)) out.append(name, value)
  out.set('x-tollgate-request-id', requestId)
  return out
}
