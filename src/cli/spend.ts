/** `tollgate spend`: spend, limit, remaining and reset time per scope, from the ledger. */
import { defineCommand } from 'citty'
import { Budget } from '../spend/budget'
import { loadSpent } from '../spend/counters'
import { keyScopes } from '../spend/keys'
import { formatUsd, limitsToNanos } from '../spend/money'
import { WINDOW_NAMES, scopesFor, spendLines } from '../spend/report'
import { WINDOWS } from '../spend/windows'
import { configArg, fail, loadOrExit, table, withDatabase } from './shared'

export const spendCommand = defineCommand({
  meta: { name: 'spend', description: 'Show spend, limits, what remains and when each window resets' },
  args: {
    ...configArg,
    project: { type: 'string', description: 'Only this project (and its users and keys)' },
    user: { type: 'string', description: 'Only this user (and their keys)' },
    key: { type: 'string', description: 'Only this key' },
    window: { type: 'string', description: 'day | week | month | total (default: all)' },
    json: { type: 'boolean', description: 'Print JSON (the shape of GET /v1/spend)' },
  },
  async run({ args }) {
    if (args.window && !WINDOW_NAMES[args.window]) fail(`--window must be day, week, month or total; got "${args.window}"`)
    const loaded = await loadOrExit(args.config)
    const { config } = loaded
    const windows = args.window ? [WINDOW_NAMES[args.window]!] : [...WINDOWS]
    const lines = await withDatabase(loaded, async (db) => {
      const budget = new Budget(config.limits.timezone, Date.now)
      await loadSpent(db.db, budget)
      const scopes = scopesFor(config, await keyScopes(db.db, config, limitsToNanos), { project: args.project, user: args.user, key: args.key }, limitsToNanos)
      return spendLines(budget, scopes, windows)
    })
    if (args.json) return console.log(JSON.stringify({ timezone: config.limits.timezone, data: lines }, null, 2))
    console.log(
      table(
        lines.map((l) => ({
          scope: l.scope,
          id: l.id,
          window: l.window,
          spent: formatUsd(l.spent_nanos),
          limit: l.limit_nanos === null ? undefined : formatUsd(l.limit_nanos),
          remaining: l.limit_nanos === null ? undefined : formatUsd(Math.max(0, l.limit_nanos - l.spent_nanos)),
          resets: l.resets_at ?? undefined,
        })),
      ),
    )
  },
})
