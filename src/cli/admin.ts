/**
 * `tollgate admin bootstrap`: prints a one-time setup link that makes an org admin.
 * `tollgate admin-token create | list | revoke`: tokens for automation against the admin API.
 */
import { defineCommand } from 'citty'
import { and, desc, eq, isNull } from 'drizzle-orm'
import { adminTokens } from '../db/schema-admin'
import { publicBase } from '../admin/context'
import { createSetupLink, SETUP_TTL_MS } from '../admin/setup'
import { createAdminToken, TOKEN_ROLES, type TokenRole } from '../admin/tokens'
import { configArg, fail, loadOrExit, table, withDatabase } from './shared'

const bootstrap = defineCommand({
  meta: { name: 'bootstrap', description: 'Print a one-time setup link that makes an organisation admin (no password exists)' },
  args: { ...configArg, url: { type: 'string', description: 'Base URL browsers use to reach the gateway (default: [admin] public_url, else server.listen)' } },
  async run({ args }) {
    const loaded = await loadOrExit(args.config)
    const base = (args.url ?? publicBase(loaded.config)).replace(/\/+$/, '')
    if (!/^https?:\/\//.test(base)) fail(`--url must start with http:// or https://, got "${base}"`)
    const link = await withDatabase(loaded, (db) => createSetupLink(db.db, base))
    console.error(`One-time setup link, valid for ${SETUP_TTL_MS / 3600_000} hours. Whoever opens it first becomes an org admin${loaded.config.auth.oidc ? ' (by signing in through single sign-on)' : ''}:`)
    console.log(link)
  },
})

export const adminCommand = defineCommand({
  meta: { name: 'admin', description: 'Admin UI and API: bootstrap the first administrator' },
  subCommands: { bootstrap },
})

const create = defineCommand({
  meta: { name: 'create', description: 'Create an admin API token; prints the secret once' },
  args: {
    ...configArg,
    role: { type: 'string', description: `One of ${TOKEN_ROLES.join(', ')}`, required: true },
    project: { type: 'string', description: 'The project a project_admin token administers' },
    user: { type: 'string', description: 'The user a member token acts as' },
    name: { type: 'string', description: 'A label for the token' },
    expires: { type: 'string', description: 'Expiry, ISO 8601' },
  },
  async run({ args }) {
    const loaded = await loadOrExit(args.config)
    const role = args.role as TokenRole
    if (!TOKEN_ROLES.includes(role)) fail(`--role must be one of ${TOKEN_ROLES.join(', ')}, got "${args.role}"`)
    if (role === 'project_admin' && !args.project) fail('--project is required for a project_admin token')
    if (role === 'member' && !args.user) fail('--user is required for a member token')
    let expiresAt: number | undefined
    if (args.expires) {
      expiresAt = Date.parse(args.expires)
      if (Number.isNaN(expiresAt)) fail(`--expires is not a date: "${args.expires}"`)
    }
    const t = await withDatabase(loaded, (db) => createAdminToken(db.db, { role, project: args.project, userId: args.user, name: args.name, expiresAt }))
    console.error(`created admin token ${t.id} (${role}${args.project ? `, project ${args.project}` : ''}${args.user ? `, user ${args.user}` : ''}). The secret is shown only now; send it as "Authorization: Bearer <token>":`)
    console.log(t.secret)
  },
})

const list = defineCommand({
  meta: { name: 'list', description: 'List admin API tokens (never their secrets)' },
  args: { ...configArg },
  async run({ args }) {
    const loaded = await loadOrExit(args.config)
    const rows = await withDatabase(loaded, (db) => db.db.select().from(adminTokens).orderBy(desc(adminTokens.createdAt)))
    const iso = (t: number | null) => (t ? new Date(t).toISOString() : undefined)
    console.log(table(rows.map((r) => ({ id: r.id, name: r.name, role: r.role, project: r.project, user: r.userId, created: iso(r.createdAt), last_used: iso(r.lastUsedAt), status: r.revokedAt ? 'revoked' : 'active' }))))
  },
})

const revoke = defineCommand({
  meta: { name: 'revoke', description: 'Revoke an admin API token by id' },
  args: { ...configArg, id: { type: 'positional', description: 'Token id', required: true } },
  async run({ args }) {
    const loaded = await loadOrExit(args.config)
    const done = await withDatabase(loaded, (db) =>
      db.db.update(adminTokens).set({ revokedAt: Date.now() }).where(and(eq(adminTokens.id, args.id), isNull(adminTokens.revokedAt))).returning({ id: adminTokens.id }),
    )
    if (!done.length) fail(`no active admin token with id "${args.id}"`)
    console.log(`revoked admin token ${args.id}`)
  },
})

export const adminTokenCommand = defineCommand({
  meta: { name: 'admin-token', description: 'Manage admin API tokens' },
  subCommands: { create, list, revoke },
})
