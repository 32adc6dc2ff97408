/** Who is calling: the key, its project and its user, with their allow-lists and limits. */
import type { Limits, ProjectConfig, RateLimits, UserConfig } from '../config/schema'

export interface KeyRecord {
  id: string
  name?: string
  project: string
  user?: string
  /** SHA-256 of the secret, hex. */
  sha256: string
  providers?: string[]
  models?: string[]
  expiresAt?: number
  revokedAt?: number
  limits?: Limits
  /** Requests/tokens per minute and in flight (src/ratelimit/). */
  rateLimits?: RateLimits
  source: 'config' | 'db'
}

/** Compiles `gpt-5*`-style globs once per key. */
export function globMatcher(globs: string[]): (s: string) => boolean {
  const res = globs.map((g) => new RegExp(`^${g.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`))
  return (s) => res.some((r) => r.test(s))
}

/** Any spend limit on the key, its user or its project (prepaid credits are the spend service's to add). */
export function anyLimit(key: KeyRecord, user: UserConfig | undefined, project: ProjectConfig | undefined): boolean {
  const some = (l: object | undefined) => !!l && Object.values(l).some((v) => typeof v === 'number')
  return some(key.limits) || some(user?.limits) || some(project?.limits)
}
