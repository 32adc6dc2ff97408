/** `tollgate logs`: the latest rows of the request log. */
import { defineCommand } from 'citty'
import { desc } from 'drizzle-orm'
import { requestLog } from '../db/schema'
import { configArg, fail, loadOrExit, table, withDatabase } from './shared'

export const logsCommand = defineCommand({
  meta: { name: 'logs', description: 'Show the latest requests from the request log' },
  args: { ...configArg, tail: { type: 'string', description: 'How many rows (default 20)', default: '20' } },
  async run({ args }) {
    const n = Number(args.tail)
    if (!Number.isInteger(n) || n <= 0) fail(`--tail must be a positive whole number, got "${args.tail}"`)
    const loaded = await loadOrExit(args.config)
    const rows = await withDatabase(loaded, (db) => db.db.select().from(requestLog).orderBy(desc(requestLog.ts)).limit(n))
    console.log(
      table(
        rows.reverse().map((r) => ({
          time: new Date(r.ts).toISOString(),
          id: r.id.slice(0, 8),
          key: r.keyId,
          project: r.project,
          user: r.user,
          provider: r.provider,
          model: r.model,
          status: r.status,
          ms: r.durationMs,
          ttfb: r.ttfbMs,
          in: r.inputTokens,
          out: r.outputTokens,
          cost: r.costNanos === null ? undefined : `$${(r.costNanos / 1e9).toFixed(6)}`,
          error: r.error,
        })),
      ),
    )
  },
})
