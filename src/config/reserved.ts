/**
 * Names that provider ids, route names and project ids may not take. The first path segment of
 * a proxy request picks a route: a provider id, a routing group or an api alias (`chat`, `openai`,
 * …), and `admin`, `proxy`, `v1`, `metrics`, `health`, `ready` are the gateway's own paths. A
 * project admin who named a provider `chat` once took the default project's `/chat` route.
 *
 * The one exception is the operator's (config.toml only): a provider id, or a routing group's
 * name, that is an alias of that provider's (the group's primary target's) own api, as in
 * `id = "openai", api = "openai"`: the route keeps speaking the format its clients expect.
 * Names are compared case-insensitively.
 */
import { PROVIDER_APIS } from '../providers/registry'

export const GATEWAY_PATHS = ['admin', 'proxy', 'v1', 'metrics', 'health', 'ready'] as const

/** Every api alias, with the api it belongs to. */
function aliasOwner(name: string): string | undefined {
  for (const api of Object.values(PROVIDER_APIS)) if (api.aliases.includes(name)) return api.api
  return undefined
}

/**
 * Why `name` is reserved, or undefined. `ownApi`: the api this name would route to, when the
 * operator may reuse that api's own alias (config.toml); omit it for names made through the admin API.
 */
export function reservedName(name: string, ownApi?: string): string | undefined {
  const n = name.toLowerCase()
  if ((GATEWAY_PATHS as readonly string[]).includes(n)) return `"${name}" is reserved for the gateway's own /${n} path`
  const owner = aliasOwner(n)
  if (owner && owner !== ownApi) return `"${name}" is reserved: it is a built-in route name (an alias of the ${owner} api)`
  return undefined
}
