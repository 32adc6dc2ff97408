/**
 * `GET /v1/models` (and `/v1/models/{id}`): the front door's models this key may use, in OpenAI's
 * list shape. Per route the key and its project may use: the providers' configured `models`
 * (and Bedrock `model_aliases` names), else the models the price data knows for the provider's
 * api; then the `[[aliases]]` on those routes. Each entry says its route and model, and whether
 * the front door reaches it (`front_door`) or only the route's native format (`native_path`).
 * Filtered through the key's model allow-list, matched against the provider's own model name.
 */
import { findProvider } from '@pydantic/genai-prices'
import { authenticate } from '../auth/authenticate'
import type { KeyStore } from '../auth/keystore'
import { globMatcher, type KeyRecord } from '../auth/principal'
import type { Config, ProjectConfig, ProviderConfig } from '../config/schema'
import { GatewayError, NotFoundError, PermissionError } from '../errors'
import { FRONT_DOOR_API } from '../providers/registry'
import { FRONT_DOOR } from './frontdoor'
import type { Route, RouteTable, RouteTarget } from './routes'

export interface ModelEntry {
  id: string
  object: 'model'
  created: number
  owned_by: string
  route: string
  model: string
  /** Reachable through /v1/chat/completions (or /v1/embeddings). */
  front_door: boolean
  /** Where to go instead when it is not: the route's native path. */
  native_path?: string
  alias?: true
}

const priced = new Map<string, string[]>()

/** Model ids the price data knows for a genai-prices provider (not the deprecated ones). */
function pricedModels(pricingProvider: string): string[] {
  let list = priced.get(pricingProvider)
  if (!list) {
    list = (findProvider({ providerId: pricingProvider })?.models ?? []).filter((m) => !m.deprecated).map((m) => m.id)
    priced.set(pricingProvider, list)
  }
  return list
}

function offered(t: RouteTarget): string[] {
  const own = [...(t.provider.models ?? []), ...Object.keys(t.provider.model_aliases ?? {})]
  return own.length ? own : pricedModels(t.api.pricingProvider)
}

function usable(t: RouteTarget, key: KeyRecord, project: ProjectConfig): boolean {
  const ok = (list?: string[]) => !list || list.includes(t.provider.id)
  return t.provider.enabled !== false && ok(key.providers) && ok(project.providers)
}

/** How one model on one route looks through the front door: served (with the provider's name) or native only. */
function entryFor(route: Route, targets: RouteTarget[], model: string, allowed: (m: string) => boolean): Omit<ModelEntry, 'id'> | undefined {
  let native: { t: RouteTarget; name: string } | undefined
  for (const t of targets) {
    const served = t.api.compat?.model(model, t.provider)
    const name = served?.model ?? model
    if (!allowed(name)) continue
    if (served && t.api.compat!.operations.length) return { object: 'model', created: 0, owned_by: t.provider.id, route: route.name, model, front_door: true }
    native ??= { t, name }
  }
  if (!native) return undefined
  const path = native.t.api.compat?.nativePath(model, native.t.provider)
  return { object: 'model', created: 0, owned_by: native.t.provider.id, route: route.name, model, front_door: false, native_path: path ? `/${route.name}/${path}` : `/${route.name}/` }
}

export function listModels(config: Config, routes: RouteTable, key: KeyRecord, project: ProjectConfig): ModelEntry[] {
  const allowed = key.models ? globMatcher(key.models) : () => true
  const names = [...new Set([...config.providers.map((p: ProviderConfig) => p.id), ...config.routes.map((r) => r.name)])]
  const out: ModelEntry[] = []
  const visible = new Map<string, { route: Route; targets: RouteTarget[] }>()
  const see = (name: string) => {
    if (name === FRONT_DOOR) return undefined
    if (!visible.has(name)) {
      const route = routes.get(name)
      const targets = route?.targets.filter((t) => usable(t, key, project)) ?? []
      if (route && targets.length) visible.set(name, { route, targets })
    }
    return visible.get(name)
  }
  for (const name of names) {
    const v = see(name)
    if (!v) continue
    const models = [...new Set(v.targets.flatMap(offered))]
    for (const m of models) {
      const e = entryFor(v.route, v.targets, m, allowed)
      if (e) out.push({ id: `${v.route.name}:${m}`, ...e })
    }
  }
  for (const a of config.aliases ?? []) {
    const v = see(a.route)
    const e = v && entryFor(v.route, v.targets, a.model, allowed)
    if (e) out.push({ id: a.name, ...e, alias: true })
  }
  return out
}

/** The HTTP answer; errors in OpenAI's shape. `path` is what follows `/v1/models`. */
export async function modelsRoute(request: Request, keys: KeyStore, config: Config, routes: RouteTable, redact: (text: string) => string): Promise<Response> {
  try {
    const key = await authenticate(request.headers, keys)
    const project = config.projects.find((p) => p.id === key.project)
    if (!project) throw new PermissionError(`This key's project "${key.project}" no longer exists.`, 'unknown_project')
    const list = listModels(config, routes, key, project)
    const rest = /\/v1\/models\/(.+)$/.exec(new URL(request.url).pathname)?.[1]
    if (rest === undefined) return Response.json({ object: 'list', data: list })
    const id = decodeURIComponent(rest)
    const one = list.find((m) => m.id === id)
    if (!one) throw new NotFoundError(`The model "${id}" does not exist or this key may not use it.`, 'model_not_found')
    return Response.json(one)
  } catch (e) {
    const err = e instanceof GatewayError ? e : new GatewayError('upstream', 500, 'internal_error', 'The gateway failed to list models.')
    return err.renderIn(FRONT_DOOR_API.errors, redact)
  }
}
