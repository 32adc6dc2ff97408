/** `tollgate keys create | list | revoke`: gateway keys stored in the database. */
import { defineCommand } from 'citty'
import { desc, eq } from 'drizzle-orm'
import { apiKeys } from '../db/schema'
import { generateKey } from '../auth/key-format'
import { configArg, fail, loadOrExit, table, usdFlag, withDatabase } from './shared'
import { notifyCluster } from '../cluster/notify'

/** A positive whole number from a flag (rate limits). */
function countFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a whole number ≥ 1, got "${v}"`)
  return n
}

const create = defineCommand({
  meta: { name: 'create', description: 'Create a gateway key; prints the secret once' },
  args: {
    ...configArg,
    project: { type: 'string', description: 'Project the key belongs to', required: true },
    user: { type: 'string', description: 'User who holds the key (omit for a project key)' },
    name: { type: 'string', description: 'A label for the key' },
    providers: { type: 'string', description: 'Comma-separated provider ids this key may reach' },
    models: { type: 'string', description: 'Comma-separated model globs, e.g. "gpt-5*,claude-*"' },
    expires: { type: 'string', description: 'Expiry, ISO 8601 (e.g. 2027-01-01T00:00:00Z)' },
    daily: { type: 'string', description: 'Daily spend limit, USD' },
    weekly: { type: 'string', description: 'Weekly spend limit, USD' },
    monthly: { type: 'string', description: 'Monthly spend limit, USD' },
    total: { type: 'string', description: 'Total spend limit, USD' },
    rpm: { type: 'string', description: 'Rate limit: requests per minute' },
    tpm: { type: 'string', description: 'Rate limit: tokens per minute (input + output)' },
    concurrency: { type: 'string', description: 'Rate limit: requests in flight' },
  },
  async run({ args }) {
    const loaded = await loadOrExit(args.config)
    const { config } = loaded
    if (!config.projects.some((p) => p.id === args.project)) fail(`unknown project "${args.project}" (projects: ${config.projects.map((p) => p.id).join(', ')})`)
    if (args.user && !config.users.some((u) => u.id === args.user)) fail(`unknown user "${args.user}"`)
    const list = (s: string | undefined) => s?.split(',').map((x) => x.trim()).filter(Boolean)
    const providers = list(args.providers)
    for (const p of providers ?? []) if (!config.providers.some((c) => c.id === p)) fail(`unknown provider "${p}"`)
    let expiresAt: number | undefined
    if (args.expires) {
      expiresAt = Date.parse(args.expires)
      if (Number.isNaN(expiresAt)) fail(`--expires is not a date: "${args.expires}"`)
    }
    const k = generateKey()
    await withDatabase(loaded, (db) =>
      db.db.insert(apiKeys).values({
        id: k.id,
        name: args.name,
        project: args.project,
        user: args.user,
        keySha256: k.sha256,
        displayPrefix: k.displayPrefix,
        providers,
        models: list(args.models),
        limitDailyNanos: usdFlag('daily', args.daily),
        limitWeeklyNanos: usdFlag('weekly', args.weekly),
        limitMonthlyNanos: usdFlag('monthly', args.monthly),
        limitTotalNanos: usdFlag('total', args.total),
        rateRpm: countFlag('rpm', args.rpm),
        rateTpm: countFlag('tpm', args.tpm),
        rateConcurrency: countFlag('concurrency', args.concurrency),
        expiresAt,
        createdAt: Date.now(),
      }),
    )
    console.error(`created key ${k.id} for project ${args.project}${args.user ? `, user ${args.user}` : ''}. The secret is shown only now:`)
    console.log(k.secret)
  },
})

const list = defineCommand({
  meta: { name: 'list', description: 'List gateway keys (from config and from the database)' },
  args: { ...configArg },
  async run({ args }) {
    const loaded = await loadOrExit(args.config)
    const rows = await withDatabase(loaded, (db) => db.db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt)))
    const iso = (t: number | null | undefined) => (t ? new Date(t).toISOString() : undefined)
    const out = [
      ...loaded.config.keys.map((k) => ({ id: k.id, source: 'config', project: k.project, user: k.user, name: k.name, prefix: undefined, created: undefined, expires: k.expires, status: 'active' })),
      ...rows.map((r) => ({
        id: r.id,
        source: 'db',
        project: r.project,
        user: r.user,
        name: r.name,
        prefix: r.displayPrefix,
        created: iso(r.createdAt),
        expires: iso(r.expiresAt),
        status: r.revokedAt ? `revoked ${iso(r.revokedAt)}` : r.expiresAt && r.expiresAt <= Date.now() ? 'expired' : 'active',
      })),
    ]
    console.log(table(out))
  },
})

const revoke = defineCommand({
  meta: { name: 'revoke', description: 'Revoke a gateway key by id' },
  args: { ...configArg, id: { type: 'positional', description: 'Key id', required: true } },
  async run({ args }) {
    const loaded = await loadOrExit(args.config)
    if (loaded.config.keys.some((k) => k.id === args.id)) {
      fail(`key "${args.id}" is declared in ${loaded.path}; remove it there to revoke it (the CLI cannot change config keys)`)
    }
    const done = await withDatabase(loaded, (db) =>
      db.db.update(apiKeys).set({ revokedAt: Date.now() }).where(eq(apiKeys.id, args.id)).returning({ id: apiKeys.id }),
    )
    if (!done.length) fail(`no key with id "${args.id}"`)
    // In a cluster every instance applies it at once; otherwise at its next refresh.
    const announced = await notifyCluster(loaded.config, 'key', args.id)
    console.log(`revoked ${args.id}; running gateways refuse it ${announced ? 'now (announced to the cluster)' : 'within 5 seconds'}`)
  },
})

export const keysCommand = defineCommand({
  meta: { name: 'keys', description: 'Manage gateway keys' },
  subCommands: { create, list, revoke },
})
