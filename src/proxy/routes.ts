/**
 * The route table: the first path segment names a provider id, or an api alias
 * (`openai`, `chat`, `anthropic`, …) that reaches the first provider of that api.
 * Routing groups (`[[routes]]`, several targets with failover) resolve through the same table
 * and take precedence over a provider or alias of the same name.
 */
import type { Config, ProviderConfig } from '../config/schema'
import type { ProviderApi } from '../providers/types'
import { providerApi } from '../providers/registry'
import { FRONT_DOOR, frontDoorRoute } from './frontdoor'

export interface RouteTarget {
  provider: ProviderConfig
  api: ProviderApi
  priority: number
  weight: number
}

export interface Route {
  name: string
  targets: RouteTarget[]
  /** The error shape clients of this route speak (its first target's). */
  api: ProviderApi
  /** The front door (`/v1/…`): the route this request really takes, picked from its body's model (src/proxy/frontdoor.ts). */
  pick?(method: string, path: string, json: Record<string, unknown> | undefined, visible?: (route: Route) => boolean): Route
}

export class RouteTable {
  private readonly routes = new Map<string, Route>()

  constructor(config: Config) {
    const target = (p: ProviderConfig): RouteTarget | undefined => {
      const api = providerApi(p.api)
      return api && { provider: p, api, priority: 0, weight: 1 }
    }
    // Aliases first, so a provider id of the same name overrides an alias.
    for (const p of config.providers) {
      const t = target(p)
      if (!t) continue
      for (const alias of t.api.aliases) {
        const existing = this.routes.get(alias)
        // The first enabled provider of an api owns its aliases.
        if (!existing || (existing.targets[0]!.provider.enabled === false && p.enabled !== false)) {
          this.routes.set(alias, { name: alias, targets: [t], api: t.api })
        }
      }
    }
    for (const p of config.providers) {
      const t = target(p)
      if (t) this.routes.set(p.id, { name: p.id, targets: [t], api: t.api })
    }
    // Routing groups last: a group named like a provider or an alias takes its place.
    const byId = new Map(config.providers.map((p) => [p.id, p]))
    for (const r of config.routes ?? []) {
      const targets: RouteTarget[] = []
      for (const t of r.targets) {
        const p = byId.get(t.provider)
        const base = p && target(p)
        if (base) targets.push({ ...base, priority: t.priority ?? 0, weight: t.weight ?? 1 })
      }
      if (!targets.length) continue
      // The primary (highest priority, first listed on a tie) sets the error shape clients see.
      const primary = targets.reduce((a, b) => (b.priority > a.priority ? b : a))
      this.set({ name: r.name, targets, api: primary.api })
    }
    this.routes.set(FRONT_DOOR, frontDoorRoute((name) => (name === FRONT_DOOR ? undefined : this.routes.get(name)), config.aliases ?? []))
  }

  /** Adds or replaces a route (routing groups take precedence over providers and aliases). */
  set(route: Route): void {
    this.routes.set(route.name, route)
  }

  get(name: string): Route | undefined {
    return this.routes.get(name)
  }

  names(): string[] {
    return [...this.routes.keys()]
  }
}
