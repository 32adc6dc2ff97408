/**
 * The organisation as the admin API sees it: projects, users, memberships and providers
 * from config.toml ("config", read-only) and from the database ("db"), kept in memory.
 * `reload()` re-reads the tables after every change (and every few seconds, for changes
 * made by another instance or the CLI) and hands the merged Config to the running proxy.
 */
import { ConfigError } from '../config/load'
import { reservedName } from '../config/reserved'
import type { Config, Limits } from '../config/schema'
import type { Db } from '../db/client'
import { apiKeys } from '../db/schema'
import { adminMemberships, adminProjects, adminProviders, adminUsers } from '../db/schema-admin'
import type { SecretBox } from './crypto'
import { last4 } from './crypto'
import { columnsToLimits } from './money'
import { idConflicts, mergeConfig, type DbEntities } from './merge'

export type Source = 'config' | 'db'
export type ProjectRole = 'admin' | 'member'

export interface ProjectView {
  id: string
  name?: string
  providers?: string[]
  limits: Limits
  source: Source
  createdAt?: number
  /** Why this database project's id is a reserved name (made before the rule existed). */
  reservedConflict?: string
}

export interface UserView {
  id: string
  email?: string
  name?: string
  role: 'admin' | 'member'
  limits: Limits
  source: Source
  createdAt?: number
  lastSeenAt?: number
}

export interface MembershipView {
  project: string
  userId: string
  role: ProjectRole
  source: Source
}

export interface ProviderView {
  id: string
  api: string
  baseUrl?: string
  project?: string
  enabled: boolean
  keyLast4?: string
  hasKey: boolean
  source: Source
  createdAt?: number
  /** Why this database provider's id is a reserved name: it is not routed (the built-in route wins). */
  reservedConflict?: string
}

export class Directory {
  private db: DbEntities = { projects: [], users: [], memberships: [], providers: [] }
  private timer: ReturnType<typeof setInterval> | undefined
  private fingerprint = ''
  /** Reserved-name conflicts already logged, so each is named once per process. */
  private warned = new Set<string>()
  merged: Config

  constructor(
    private readonly database: Db,
    private config: Config,
    private readonly box: SecretBox | undefined,
    private readonly apply: (merged: Config) => void,
    private readonly configPath = 'config.toml',
  ) {
    this.merged = config
  }

  /** config.toml as the directory merges it with the database. */
  get file(): Config {
    return this.config
  }

  /**
   * Takes a new config.toml (a SIGHUP reload) and merges it with the database at once,
   * refusing an id it shares with a database entity. If that throws, the old file, merge and
   * fingerprint stay in force, as if nothing had been asked.
   */
  async replaceFile(next: Config): Promise<void> {
    const { config, merged, fingerprint } = this
    this.config = next
    // The tables may be unchanged, but the merge is not: a reload must not skip it.
    this.fingerprint = ''
    try {
      await this.reload(true)
    } catch (e) {
      this.config = config
      this.merged = merged
      this.fingerprint = fingerprint
      throw e
    }
  }

  /** First load: an id declared in both config.toml and the database stops the start. */
  async start(refreshMs = 5000): Promise<void> {
    await this.reload(true)
    this.timer = setInterval(() => void this.reload().catch((e) => console.error(`admin: reload failed: ${(e as Error).message}`)), refreshMs)
    this.timer.unref?.()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
  }

  async reload(strict = false): Promise<void> {
    const [projects, users, memberships, providers, keys] = await Promise.all([
      this.database.select().from(adminProjects),
      this.database.select().from(adminUsers),
      this.database.select().from(adminMemberships),
      this.database.select().from(adminProviders),
      strict ? this.database.select({ id: apiKeys.id }).from(apiKeys) : Promise.resolve([]),
    ])
    if (strict) {
      const clashes = idConflicts(this.config, {
        projects: projects.map((p) => p.id),
        users: users.map((u) => u.id),
        providers: providers.map((p) => p.id),
        keys: keys.map((k) => k.id),
      })
      if (clashes.length) throw new ConfigError(this.configPath, clashes.map((message) => ({ path: '', message })))
    }
    // The periodic reload finds nothing new most of the time: then nothing is rebuilt.
    const fingerprint = JSON.stringify([projects, users, memberships, providers])
    if (fingerprint === this.fingerprint) return
    this.fingerprint = fingerprint
    const decrypted = await Promise.all(
      providers.map(async (row) => {
        if (!row.keyCiphertext || !this.box) return { row, apiKey: undefined }
        try {
          return { row, apiKey: await this.box.open(row.keyCiphertext, row.id) }
        } catch {
          console.error(`admin: the credential of provider ${row.id} cannot be decrypted with [secrets] key; the provider stays disabled`)
          return { row, apiKey: undefined }
        }
      }),
    )
    this.db = { projects, users, memberships, providers: decrypted }
    this.warnReserved()
    this.merged = mergeConfig(this.config, this.db)
    this.apply(this.merged)
  }

  /** Names, once, every database id that a reserved name forbids (see src/config/reserved.ts). */
  private warnReserved(): void {
    const found = [
      ...this.db.providers.map(({ row }) => ['provider', row.id, 'admin_providers', 'it is not routed (the built-in route wins); add it again under another id and delete this one'] as const),
      ...this.db.projects.map((r) => ['project', r.id, 'admin_projects', 'rename it: create a project under another id and move its members and keys'] as const),
    ]
    for (const [kind, id, table, advice] of found) {
      const why = reservedName(id)
      if (!why || this.warned.has(`${kind}:${id}`)) continue
      this.warned.add(`${kind}:${id}`)
      console.error(`admin: warning: ${kind} "${id}" in the database (table ${table}) has a reserved id: ${why}; ${advice}`)
    }
  }

  projects(): ProjectView[] {
    return [
      ...this.file.projects.map((p): ProjectView => ({ id: p.id, name: p.name, providers: p.providers, limits: p.limits ?? {}, source: 'config' })),
      ...this.db.projects.map(
        (r): ProjectView => ({
          id: r.id,
          name: r.name ?? undefined,
          providers: r.providers ?? undefined,
          limits: columnsToLimits(r),
          source: 'db',
          createdAt: r.createdAt,
          reservedConflict: reservedName(r.id),
        }),
      ),
    ]
  }

  project(id: string): ProjectView | undefined {
    return this.projects().find((p) => p.id === id)
  }

  users(): UserView[] {
    return [
      ...this.file.users.map((u): UserView => ({ id: u.id, email: u.email, role: u.role, limits: u.limits ?? {}, source: 'config' })),
      ...this.db.users.map(
        (r): UserView => ({
          id: r.id,
          email: r.email ?? undefined,
          name: r.name ?? undefined,
          role: r.role === 'admin' ? 'admin' : 'member',
          limits: columnsToLimits(r),
          source: 'db',
          createdAt: r.createdAt,
          lastSeenAt: r.lastSeenAt ?? undefined,
        }),
      ),
    ]
  }

  user(id: string): UserView | undefined {
    return this.users().find((u) => u.id === id)
  }

  userByEmail(email: string): UserView | undefined {
    const e = email.toLowerCase()
    return this.users().find((u) => u.email?.toLowerCase() === e)
  }

  memberships(): MembershipView[] {
    const out: MembershipView[] = []
    for (const u of this.file.users) for (const p of u.projects ?? []) out.push({ project: p, userId: u.id, role: 'member', source: 'config' })
    for (const m of this.db.memberships) {
      if (out.some((x) => x.project === m.project && x.userId === m.userId)) continue
      out.push({ project: m.project, userId: m.userId, role: m.role === 'admin' ? 'admin' : 'member', source: 'db' })
    }
    return out
  }

  membershipsOf(userId: string): MembershipView[] {
    return this.memberships().filter((m) => m.userId === userId)
  }

  membersOf(project: string): MembershipView[] {
    return this.memberships().filter((m) => m.project === project)
  }

  providers(): ProviderView[] {
    return [
      ...this.file.providers.map(
        (p): ProviderView => ({
          id: p.id,
          api: p.api,
          baseUrl: p.base_url,
          enabled: p.enabled !== false,
          keyLast4: p.api_key ? last4(p.api_key) : undefined,
          hasKey: Boolean(p.api_key),
          source: 'config',
        }),
      ),
      ...this.db.providers.map(
        ({ row, apiKey }): ProviderView => ({
          id: row.id,
          api: row.api,
          baseUrl: row.baseUrl ?? undefined,
          project: row.project ?? undefined,
          enabled: row.enabled && (apiKey !== undefined || !row.keyCiphertext),
          keyLast4: row.keyLast4 ?? undefined,
          hasKey: Boolean(row.keyCiphertext),
          source: 'db',
          createdAt: row.createdAt,
          reservedConflict: reservedName(row.id),
        }),
      ),
    ]
  }

  provider(id: string): ProviderView | undefined {
    return this.providers().find((p) => p.id === id)
  }

  /** The provider as the proxy runs it (with its credential): for "test connection" only. */
  runtimeProvider(id: string) {
    return this.merged.providers.find((p) => p.id === id)
  }

  /** Any id in use by a project, user, provider (config or db): new ids must avoid them. */
  idTaken(kind: 'project' | 'user' | 'provider', id: string): boolean {
    if (kind === 'project') return this.project(id) !== undefined
    if (kind === 'user') return this.user(id) !== undefined
    return this.provider(id) !== undefined
  }
}
