/**
 * The proxy's edge, before and just after authentication: what an unauthenticated caller can
 * learn (nothing about which routes exist), credentials in the query string (never forwarded,
 * a gateway key there refused), and which routes an authenticated key is told about.
 */
import type { KeyRecord } from '../auth/principal'
import { KEY_PREFIX } from '../auth/key-format'
import type { ProjectConfig } from '../config/schema'
import { AuthenticationError, type ErrorShape } from '../errors'
import { PROVIDER_APIS, shapeFor } from '../providers/registry'
import type { RouteTable } from './routes'

/**
 * Claude Code sends `HEAD <base URL>` before its first request. Every bare first segment
 * (`/anthropic`, `/proxy/x`, `/nonexistent`) gets the same empty 200 to a HEAD, with or without
 * a key, so the answer says nothing about which routes exist. A GET goes through authentication
 * like any request (a bare `GET /metrics` on a gateway that serves metrics elsewhere is a 401).
 */
export function preAuthAnswer(method: string, rest: string): Response | undefined {
  if (rest || method !== 'HEAD') return undefined
  return new Response(null, { status: 200 })
}

/**
 * The error shape before authentication: from the built-in alias names (fixed in the code, the
 * same whatever the config holds) and the request's headers, never from the route table, so an
 * unknown route and a private provider's id answer alike.
 */
export function preAuthShape(routeName: string, rest: string, headers: Headers): ErrorShape {
  for (const api of Object.values(PROVIDER_APIS)) if (api.aliases.includes(routeName)) return api.errorsFor?.(rest) ?? api.errors
  return shapeFor(routeName, headers)
}

/**
 * Query parameters that can carry a credential (compared lower-case). None is ever forwarded
 * upstream on any route: Google's `?key=`, OAuth's `access_token`, and the usual spellings of
 * an API key or token.
 */
export const CREDENTIAL_PARAMS: ReadonlySet<string> = new Set([
  'key',
  'api_key',
  'apikey',
  'api-key',
  'x-api-key',
  'x-goog-api-key',
  'access_token',
  'accesstoken',
  'id_token',
  'refresh_token',
  'token',
  'auth',
  'authorization',
  'bearer',
  'client_secret',
  'password',
  'secret',
])

/** A quick pre-check: a name of the list followed by `=` (most queries are `?beta=true`, `?alt=sse` or empty). */
const MAYBE = /(?:^|[?&])(?:[a-z_-]*(?:key|token|auth|authorization|bearer|secret|password))=/i

/**
 * The query string to send upstream: every credential parameter removed, the rest untouched
 * (the same string when there is none). Throws a 401 when one holds a gateway key: a key in a
 * URL ends up in access logs and browser history, and the client should send it in a header.
 */
export function scrubCredentialQuery(search: string): string {
  if (search.length < 2 || !MAYBE.test(search)) return search
  const params = new URLSearchParams(search)
  let dropped = false
  for (const [name, value] of [...params]) {
    if (!CREDENTIAL_PARAMS.has(name.toLowerCase())) continue
    if (value.trimStart().replace(/^bearer\s+/i, '').startsWith(KEY_PREFIX)) throw keyInUrl(name)
    params.delete(name)
    dropped = true
  }
  if (!dropped) return search
  const rest = params.toString()
  return rest ? `?${rest}` : ''
}

function keyInUrl(param: string): AuthenticationError {
  return new AuthenticationError(
    `A gateway key must not be sent in the URL (query parameter "${param}"). Send it as "Authorization: Bearer <key>", or in the x-api-key or x-goog-api-key header.`,
    'key_in_url',
  )
}

/**
 * The routes one key may use, for its 404: routes with a target allowed by both the key's and
 * the project's allow-lists (a project's own providers, allowed config providers, the aliases
 * and groups that reach them). Another project's private provider is never in the project's
 * list, so it is never named.
 */
export function routesVisibleTo(routes: RouteTable, key: KeyRecord, project: ProjectConfig | undefined): string[] {
  if (!project) return []
  const ok = (id: string) => (!key.providers || key.providers.includes(id)) && (!project.providers || project.providers.includes(id))
  return routes.names().filter((name) => routes.get(name)!.targets.some((t) => ok(t.provider.id)))
}
