/**
 * The network policy for providers made through the admin API (config.toml's are the operator's
 * and are never checked). A base URL is checked when it is saved (`checkBaseUrl`) and its host is
 * resolved again right before every upstream fetch (`connectRefusal`), so a name that resolved to
 * a public address when saved and to an internal one later (DNS rebinding) is refused.
 *
 * Residual window: fetch resolves the name itself after our lookup. Both lookups go through the
 * same resolver moments apart; a resolver answering differently within that window is not caught.
 */
import { lookup } from 'node:dns/promises'
import type { ProviderConfig } from '../config/schema'
import { canonicalHost, forbiddenAddress, forbiddenHost } from './address-policy'

export interface NetworkPolicy {
  /** `[admin] allowed_base_urls`: trusted by the operator, so exempt from the address checks. */
  allowedBaseUrls: string[]
  /** `[admin] allow_private_upstreams`: no address checks at all (plain http allowed too). */
  allowPrivate: boolean
}

export type Resolver = (host: string) => Promise<string[]>

const systemResolver: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address)
let resolver: Resolver = systemResolver

/** Tests control name resolution; `undefined` restores the system's. */
export function setResolver(r: Resolver | undefined): void {
  resolver = r ?? systemResolver
}

/** Whether a base URL is one the operator listed: same origin, and a path at or below the listed one. */
export function isListedBaseUrl(baseUrl: string, policy: NetworkPolicy): boolean {
  let u: URL
  try {
    u = new URL(baseUrl)
  } catch {
    return false
  }
  return policy.allowedBaseUrls.some((entry) => {
    try {
      const a = new URL(entry)
      const path = a.pathname.replace(/\/+$/, '')
      return a.origin === u.origin && (u.pathname.replace(/\/+$/, '') === path || u.pathname.startsWith(`${path}/`))
    } catch {
      return false
    }
  })
}

/** Why a host is refused after resolving it (every address must be public), or undefined. */
async function hostRefusal(host: string): Promise<string | undefined> {
  const literal = forbiddenHost(host)
  if (literal) return literal
  if (!/[a-z]/i.test(host) || host.includes(':')) return undefined // a public IP literal
  let addresses: string[]
  try {
    addresses = await resolver(host)
  } catch {
    return `${host} cannot be resolved`
  }
  if (!addresses.length) return `${host} cannot be resolved`
  for (const a of addresses) {
    const why = forbiddenAddress(a)
    if (why) return `${host} resolves to ${why}`
  }
  return undefined
}

/** At save time: why an org admin's base URL is refused, or undefined. */
export async function checkBaseUrl(baseUrl: string, policy: NetworkPolicy): Promise<string | undefined> {
  let u: URL
  try {
    u = new URL(baseUrl)
  } catch {
    return 'base_url is not a URL'
  }
  if (u.username || u.password) return 'base_url may not carry a user name or password'
  if (isListedBaseUrl(baseUrl, policy) || policy.allowPrivate) return undefined
  if (u.protocol !== 'https:') return 'base_url must be https (or a URL listed in [admin] allowed_base_urls)'
  const why = await hostRefusal(canonicalHost(u))
  return why && `base_url: ${why}; internal addresses are refused unless [admin] allow_private_upstreams = true`
}

/** Admin-made providers, with the policy they were merged under. */
const guarded = new WeakMap<ProviderConfig, NetworkPolicy>()

export function guardProvider(p: ProviderConfig, policy: NetworkPolicy): ProviderConfig {
  guarded.set(p, policy)
  return p
}

/**
 * Right before an upstream fetch: undefined (synchronously) for the operator's providers, else a
 * promise of why the URL is refused (undefined when it may go).
 */
export function connectRefusal(p: ProviderConfig, url: string): Promise<string | undefined> | undefined {
  const policy = guarded.get(p)
  if (!policy || policy.allowPrivate) return undefined
  if (p.base_url && isListedBaseUrl(p.base_url, policy) && isListedBaseUrl(url, policy)) return undefined
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return Promise.resolve('not a URL')
  }
  if (u.protocol !== 'https:') return Promise.resolve(`${u.protocol} upstreams are refused`)
  return hostRefusal(canonicalHost(u))
}
