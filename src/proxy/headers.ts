/** Which headers cross the gateway, in each direction. */
import { VERSION } from '../version'

/**
 * Client headers that may reach any upstream; each format adds its own (ProviderApi.forwardHeaders,
 * `name*` for a prefix). Everything else, credentials included, stays here.
 */
const CORE_FORWARD = ['accept', 'content-type', 'traceparent', 'tracestate']

const USER_AGENT_SUFFIX = `tollgate/${VERSION}`

export interface ForwardList {
  names: Set<string>
  prefixes: string[]
}

const lists = new WeakMap<object, WeakMap<object, ForwardList>>()

/** The allow-list for a client speaking `client`'s format to `target`'s upstream (the same api, or a failover target). */
export function forwardList(client: { forwardHeaders?: readonly string[] }, target: { forwardHeaders?: readonly string[] }): ForwardList {
  let byTarget = lists.get(client)
  if (!byTarget) lists.set(client, (byTarget = new WeakMap()))
  let list = byTarget.get(target)
  if (!list) {
    const all = [...CORE_FORWARD, ...(client.forwardHeaders ?? []), ...(target.forwardHeaders ?? [])]
    list = { names: new Set(all.filter((n) => !n.endsWith('*'))), prefixes: all.filter((n) => n.endsWith('*')).map((n) => n.slice(0, -1)) }
    byTarget.set(target, list)
  }
  return list
}

const CORE_ONLY: ForwardList = { names: new Set(CORE_FORWARD), prefixes: [] }

export function upstreamHeaders(client: Headers, own: Record<string, string>, stream: boolean, allow: ForwardList = CORE_ONLY): Headers {
  // A native copy, then every name off the allow-list deleted: a third of the cost of copying pairs one by one.
  const out = new Headers(client)
  for (const name of client.keys()) if (!allow.names.has(name) && !allow.prefixes.some((p) => name.startsWith(p))) out.delete(name)
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
