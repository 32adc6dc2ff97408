/**
 * The front door (`POST /v1/chat/completions`, `/v1/embeddings`): the body's model names a route
 * and that route's model (`anthropic:claude-sonnet-4-5`, `claude:claude-sonnet-4-5` for a group),
 * or a bare `[[aliases]]` name. The route's targets become their providers' own OpenAI-compatible
 * endpoints (ProviderApi.compat); a target that serves the model only natively is left out, and
 * when none is left the client gets a 400 naming the native route. Knows no provider.
 */
import type { AliasConfig } from '../config/schema'
import { InvalidRequestError, NotFoundError } from '../errors'
import { FRONT_DOOR_API, boundedModel, compatTargetApi, frontDoorClient, frontDoorOperation } from '../providers/registry'
import type { CompatEndpoint, CompatOperation, ProviderApi } from '../providers/types'
import type { Route, RouteTarget } from './routes'

/** The front door's name in the route table: `v1` is reserved (src/config/reserved.ts), so no route takes it. */
export const FRONT_DOOR = 'v1'

/** What a front-door model string names. */
export interface FrontDoorModel {
  route: string
  model: string
}

/** `route:model` when the prefix is a route, else an alias; undefined when neither. */
export function parseFrontDoorModel(name: string, hasRoute: (r: string) => boolean, aliases: ReadonlyMap<string, AliasConfig>): FrontDoorModel | undefined {
  const colon = name.indexOf(':')
  if (colon > 0) {
    const route = name.slice(0, colon)
    if (route !== FRONT_DOOR && hasRoute(route)) return { route, model: name.slice(colon + 1) }
  }
  const alias = aliases.get(name)
  return alias && { route: alias.route, model: alias.model }
}

type Lookup = (name: string) => Route | undefined

/** Builds the per-request route for one front-door request; throws the OpenAI-shaped error a client should see. */
export function pickRoute(method: string, path: string, json: Record<string, unknown> | undefined, lookup: Lookup, aliases: ReadonlyMap<string, AliasConfig>): Route {
  const op = frontDoorOperation(method, path)
  if (!op) throw new NotFoundError(`No endpoint ${method} /v1/${path.replace(/^\/+/, '')} on this gateway; the front door serves POST /v1/chat/completions, POST /v1/embeddings and GET /v1/models.`, 'unknown_url')
  if (!json) throw new InvalidRequestError('Request body must be a JSON object with a model.', 'invalid_json')
  const asked = boundedModel(typeof json.model === 'string' ? json.model : undefined)
  if (!asked) throw new InvalidRequestError('model: Field required', 'missing_model')
  const named = parseFrontDoorModel(asked, (r) => !!lookup(r), aliases)
  if (!named) {
    throw new NotFoundError(
      `The model "${asked}" does not exist on this gateway: name it as route:model (e.g. openai:gpt-5, anthropic:claude-sonnet-4-5) or use an alias; GET /v1/models lists them.`,
      'model_not_found',
    )
  }
  const route = lookup(named.route)
  if (!route) throw new NotFoundError(`The alias "${asked}" names route "${named.route}", which this gateway does not have.`, 'model_not_found')
  if (!named.model) throw new InvalidRequestError(`model: "${asked}" names no model after the route.`, 'invalid_model')
  return compatRoute(route, op, named.model)
}

/** The route with each target on its compat endpoint for `model`; targets without one are left out. */
export function compatRoute(route: Route, op: CompatOperation, model: string): Route {
  const targets: RouteTarget[] = []
  let primary: { priority: number; model: string } | undefined
  for (const t of route.targets) {
    const compat = t.api.compat
    if (!compat?.operations.includes(op)) continue
    const served = compat.model(model, t.provider)
    if (!served) continue
    targets.push({ ...t, api: compatTargetApi(t.api as ProviderApi & { compat: CompatEndpoint }, op, served) })
    if (!primary || t.priority > primary.priority) primary = { priority: t.priority, model: served.model }
  }
  if (!primary) throw notServed(route, op, model)
  // The classification's model (allow-lists, the reserve) is the primary target's; each try is checked again.
  return { name: route.name, targets, api: frontDoorClient(primary.model) }
}

function notServed(route: Route, op: CompatOperation, model: string): InvalidRequestError {
  const primary = route.targets.reduce((a, b) => (b.priority > a.priority ? b : a))
  const what = op === 'chat' ? 'chat completions' : 'embeddings'
  const compat = primary.api.compat
  const native = compat ? `/${route.name}/${compat.nativePath(model, primary.provider)}` : `/${route.name}/…`
  return new InvalidRequestError(
    `Route "${route.name}" has no OpenAI-compatible ${what} endpoint for "${model}": its providers serve it only in their native format. Use ${native} with that provider's SDK.`,
    'model_not_compatible',
  )
}

/** The `v1` entry of the route table: no targets of its own, it picks a route per request. */
export function frontDoorRoute(lookup: Lookup, aliases: readonly AliasConfig[]): Route {
  const byName = new Map(aliases.map((a) => [a.name, a]))
  return {
    name: FRONT_DOOR,
    targets: [],
    api: FRONT_DOOR_API,
    // A route the key's project may not see is one the gateway does not have (src/proxy/plan.ts routeVisible).
    pick: (method, path, json, visible) => pickRoute(method, path, json, visible ? (name) => { const r = lookup(name); return r && visible(r) ? r : undefined } : lookup, byName),
  }
}
