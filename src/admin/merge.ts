/**
 * The one place where entities from config.toml and entities created through the admin API
 * become the single Config the proxy runs on.
 *
 * Rules:
 * - config.toml entities come first and are never changed here, except that
 *   config users gain the memberships granted to them in the database;
 * - database projects, users and providers are appended; an id present in both is a
 *   start-up error (see `idConflicts`), so appending never shadows anything;
 * - a database provider owned by a project (`project` set) is reachable by that project only:
 *   every other project's allow-list leaves it out (a project without a list gets an explicit
 *   list of everything it may reach);
 * - a database provider whose credential cannot be decrypted (no `[secrets] key`, or the
 *   wrong one) is present but disabled, so requests get a clear "provider disabled";
 * - a database provider whose id is a reserved name (made before the rule existed, or written to
 *   the table by hand) is left out: it would shadow a built-in route, and the built-in wins.
 *   The directory flags it (and a database project with such an id) and the start-up log names it.
 */
import type { Config, ProjectConfig, ProviderConfig, UserConfig } from '../config/schema'
import type { adminMemberships, adminProjects, adminProviders, adminUsers } from '../db/schema-admin'
import { reservedName } from '../config/reserved'
import { guardProvider } from '../net/upstream-guard'
import { columnsToLimits } from './money'

export type ProjectRow = typeof adminProjects.$inferSelect
export type UserRow = typeof adminUsers.$inferSelect
export type MembershipRow = typeof adminMemberships.$inferSelect
export type ProviderRow = typeof adminProviders.$inferSelect

export interface DbEntities {
  projects: ProjectRow[]
  users: UserRow[]
  memberships: MembershipRow[]
  /** Provider rows with their credential decrypted (undefined when it could not be). */
  providers: { row: ProviderRow; apiKey: string | undefined }[]
}

export function mergeConfig(file: Config, db: DbEntities): Config {
  // Admin-made providers are checked again at connect time, under the file's [admin] policy.
  const policy = { allowedBaseUrls: file.admin?.allowed_base_urls ?? [], allowPrivate: file.admin?.allow_private_upstreams ?? false }
  const owned = new Map<string, string>()
  for (const { row } of db.providers) if (row.project) owned.set(row.id, row.project)

  const providers: ProviderConfig[] = [
    ...file.providers,
    ...db.providers.filter(({ row }) => !reservedName(row.id)).map(({ row, apiKey }): ProviderConfig => guardProvider({
      id: row.id,
      api: row.api as ProviderConfig['api'],
      ...(row.baseUrl ? { base_url: row.baseUrl } : {}),
      ...(apiKey !== undefined ? { api_key: apiKey } : {}),
      ...(row.headers ? { headers: row.headers } : {}),
      enabled: row.enabled && (apiKey !== undefined || !row.keyCiphertext),
    }, policy)),
  ]

  const reachable = (projectId: string, list: string[] | undefined): string[] | undefined => {
    if (!owned.size) return list
    const base = list ?? providers.map((p) => p.id)
    return base.filter((id) => !owned.has(id) || owned.get(id) === projectId)
  }
  const projects: ProjectConfig[] = [
    ...file.projects.map((p) => withProviders(p, reachable(p.id, p.providers))),
    ...db.projects.map((r) =>
      withProviders({ id: r.id, ...(r.name ? { name: r.name } : {}), limits: columnsToLimits(r) }, reachable(r.id, r.providers ?? undefined)),
    ),
  ]

  const dbProjectsOf = new Map<string, string[]>()
  for (const m of db.memberships) dbProjectsOf.set(m.userId, [...(dbProjectsOf.get(m.userId) ?? []), m.project])
  const users: UserConfig[] = [
    ...file.users.map((u) => {
      const extra = dbProjectsOf.get(u.id)
      return extra ? { ...u, projects: [...new Set([...(u.projects ?? []), ...extra])] } : u
    }),
    ...db.users.map(
      (r): UserConfig => ({
        id: r.id,
        ...(r.email ? { email: r.email } : {}),
        role: r.role === 'admin' ? 'admin' : 'member',
        projects: dbProjectsOf.get(r.id) ?? [],
        limits: columnsToLimits(r),
      }),
    ),
  ]

  return { ...file, providers, projects, users }
}

function withProviders(p: ProjectConfig, list: string[] | undefined): ProjectConfig {
  if (list === undefined) return p
  return { ...p, providers: list }
}

/** "an id used in both places": one message per clash, naming the config path and the table. */
export function idConflicts(file: Config, db: { projects: string[]; users: string[]; providers: string[]; keys: string[] }): string[] {
  const out: string[] = []
  const check = (section: 'projects' | 'users' | 'providers' | 'keys', table: string, ids: string[]) => {
    const index = new Map(file[section].map((x, i) => [x.id, i]))
    for (const id of ids) {
      const i = index.get(id)
      if (i !== undefined) out.push(`${section.slice(0, -1)} id "${id}" is declared in config.toml (${section}[${i}]) and also exists in the database (table ${table}, created through the admin API or CLI); remove one of them`)
    }
  }
  check('projects', 'admin_projects', db.projects)
  check('users', 'admin_users', db.users)
  check('providers', 'admin_providers', db.providers)
  check('keys', 'api_keys', db.keys)
  return out
}
