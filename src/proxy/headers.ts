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
/** SDK telemetry headers (retry count, runtime), and Google's resumable upload protocol (`x-goog-upload-command`, …). */
const FORWARD_PREFIXES = ['x-stainless-', 'x-goog-upload-']

const USER_AGENT_SUFFIX = `tollgate/${VERSION}`

function forwarded(name: string): boolean {
  return FORWARD.has(name) || FORWARD_PREFIXES.some((p) => name.startsWith(p))
}

export function upstreamHeaders(client: Headers, own: Record<string, string>, stream: boolean): Headers {
  // A native copy, then every name off the allow-list deleted: a third of the cost of copying pairs one by one.
  const out = new Headers(client)
  for (const name of client.keys()) if (!forwarded(name)) out.delete(name)
  const ua = client.get('user-agent')
  out.set('user-agent', ua ? `${ua} ${USER_AGENT_SUFFIX}` : USER_AGENT_SUFFIX)
  // No compressor may hold stream chunks back; plain JSON may come compressed.
  out.set('accept-encoding', stream ? 'identity' : 'gzip, deflate, br')
  for (const name in own) out.set(name, own[name]!)
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

const DROP_LIST = [...DROP]

export function responseHeaders(upstream: Headers, requestId: string): Headers {
  // A native copy minus the drop list (deleting an absent name is cheap).
  const out = new Headers(upstream)
  for (const name of DROP_LIST) out.delete(name)
  out.set('x-tollgate-request-id', requestId)
  return out
}
