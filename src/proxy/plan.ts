/**
 * Which targets of a route one request may try, in order: those the key and project allow and
 * that are enabled; highest priority first, weighted random within one priority. Breakers are
 * consulted later, one attempt at a time, because a half-open breaker admits a single probe.
 */
import type { ProjectConfig } from '../config/schema'
import type { KeyRecord } from '../auth/principal'
import { PermissionError, ProviderUnavailableError } from '../errors'
import type { Route, RouteTarget } from './routes'

/** Orders targets by priority (descending), then by weighted random draw without replacement. */
export function orderTargets(targets: readonly RouteTarget[], random: () => number = Math.random): RouteTarget[] {
  if (targets.length < 2) return [...targets]
  // Efraimidis–Spirakis: key = u^(1/w); sorting by key descending is a weighted shuffle.
  const keyed = targets.map((t) => ({ t, key: Math.pow(random(), 1 / t.weight) }))
  keyed.sort((a, b) => b.t.priority - a.t.priority || b.key - a.key)
  return keyed.map((k) => k.t)
}

/**
 * Whether a key of this project may learn that the route exists: one of its targets is within
 * the project's reach (its allow-list, which leaves out other projects' private providers). A
 * route outside it answers as an unknown route does (the same native 404), so a key cannot
 * enumerate other projects' providers. Within it, a key whose own list excludes the route gets
 * a 403: its project's members see those providers in the admin API anyway (authz
 * canSeeProvider), and "not allowed for this key" is the useful answer.
 */
export function routeVisible(route: Route, project: ProjectConfig): boolean {
  return route.targets.some((t) => allowedFor(t.provider.id, project.providers))
}

/** The targets this request may try, in order; throws the error a client should see when none. */
export function planTargets(route: Route, key: KeyRecord, project: ProjectConfig, random?: () => number): RouteTarget[] {
  const allowed = route.targets.filter((t) => allowedFor(t.provider.id, key.providers) && allowedFor(t.provider.id, project.providers))
  if (!allowed.length) {
    if (route.targets.length === 1) throw notAllowed(route.targets[0]!.provider.id, key.providers, project.providers)
    // Only the ids the project may see: a group's other targets stay unnamed.
    const ids = route.targets.filter((t) => allowedFor(t.provider.id, project.providers)).map((t) => t.provider.id).join(', ')
    throw new PermissionError(`No provider of route "${route.name}" (${ids}) is allowed for this key and project.`, 'provider_not_allowed')
  }
  const enabled = allowed.filter((t) => t.provider.enabled !== false)
  if (!enabled.length) {
    const id = allowed[0]!.provider.id
    throw new ProviderUnavailableError(`Provider "${id}" is disabled in this gateway's configuration.`, 'provider_disabled')
  }
  return orderTargets(enabled, random)
}

function allowedFor(id: string, list: string[] | undefined): boolean {
  return !list || list.includes(id)
}

function notAllowed(id: string, keyList?: string[], projectList?: string[]): PermissionError {
  const [list, who] = keyList && !keyList.includes(id) ? [keyList, 'key'] : [projectList ?? [], 'project']
  return new PermissionError(`Provider "${id}" is not allowed for this ${who}. Allowed: ${list.join(', ') || 'none'}.`, 'provider_not_allowed')
}
