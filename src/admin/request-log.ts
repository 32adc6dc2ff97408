/** The request log with filters (project, user, key, model, status, time) and a detail view. */
import { and, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm'
import { Type } from '@sinclair/typebox'
import { t } from 'elysia'
import { requestLog } from '../db/schema'
import { notFound } from './errors'
import { doc, json, type AdminApi } from './api'
import { Nullable } from './schemas'
import { allOf, logScope } from './scope'

const Entry = Type.Object({
  id: Type.String(),
  ts: Type.Integer(),
  key_id: Nullable(Type.String()),
  project: Nullable(Type.String()),
  user: Nullable(Type.String()),
  provider: Nullable(Type.String()),
  route: Nullable(Type.String()),
  api: Nullable(Type.String()),
  model: Nullable(Type.String()),
  method: Type.String(),
  path: Type.String(),
  stream: Type.Boolean(),
  status: Type.Integer(),
  duration_ms: Type.Integer(),
  ttfb_ms: Nullable(Type.Integer()),
  input_tokens: Nullable(Type.Integer()),
  output_tokens: Nullable(Type.Integer()),
  cache_read_tokens: Nullable(Type.Integer()),
  cache_write_tokens: Nullable(Type.Integer()),
  cost_nanos: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
})

type Row = typeof requestLog.$inferSelect

function view(r: Row) {
  return {
    id: r.id,
    ts: r.ts,
    key_id: r.keyId,
    project: r.project,
    user: r.user,
    provider: r.provider,
    route: r.route,
    api: r.api,
    model: r.model,
    method: r.method,
    path: r.path,
    stream: r.stream,
    status: r.status,
    duration_ms: r.durationMs,
    ttfb_ms: r.ttfbMs,
    input_tokens: r.inputTokens,
    output_tokens: r.outputTokens,
    cache_read_tokens: r.cacheReadTokens,
    cache_write_tokens: r.cacheWriteTokens,
    cost_nanos: r.costNanos,
    error: r.error,
  }
}

export function requestLogRoutes(api: AdminApi): void {
  api.get(
    '/request-log',
    async ({ ctx, p, query }) => {
      const where: SQL[] = await logScope(ctx, p, query)
      if (query.model) where.push(eq(requestLog.model, query.model))
      if (query.status) {
        const s = query.status
        if (s === 'error') where.push(sql`${requestLog.status} >= 400`)
        else if (s.endsWith('xx')) where.push(sql`${requestLog.status} / 100 = ${Number(s[0])}`)
        else where.push(eq(requestLog.status, Number(s)))
      }
      if (query.from !== undefined) where.push(gte(requestLog.ts, query.from))
      if (query.to !== undefined) where.push(lt(requestLog.ts, query.to))
      if (query.before !== undefined) where.push(lt(requestLog.ts, query.before))
      const limit = query.limit ?? 50
      const rows = await ctx.db.select().from(requestLog).where(allOf(where)).orderBy(desc(requestLog.ts)).limit(limit)
      return { entries: rows.map(view), next_before: rows.length === limit ? rows[rows.length - 1]!.ts : null }
    },
    {
      query: Type.Object({
        project: Type.Optional(Type.String()),
        user: Type.Optional(Type.String()),
        key: Type.Optional(Type.String()),
        model: Type.Optional(Type.String()),
        status: Type.Optional(Type.String({ pattern: '^([1-5][0-9][0-9]|[1-5]xx|error)$' })),
        from: Type.Optional(t.Integer({ minimum: 0 })),
        to: Type.Optional(t.Integer({ minimum: 0 })),
        before: Type.Optional(t.Integer({ minimum: 0 })),
        limit: Type.Optional(t.Integer({ minimum: 1, maximum: 500, default: 50 })),
      }),
      ...doc('request-log', 'Requests, newest first. `status` is a code (429) or a class (2xx, 4xx, 5xx, error); `before` pages back by time.', Type.Object({ entries: Type.Array(Entry), next_before: Nullable(Type.Integer()) })),
    },
  )

  api.get(
    '/request-log/:id',
    async ({ ctx, p, params }) => {
      const where = await logScope(ctx, p, {})
      const [row] = await ctx.db
        .select()
        .from(requestLog)
        .where(and(eq(requestLog.id, params.id), allOf(where)))
        .limit(1)
      if (!row) throw notFound('request')
      return { entry: view(row), usage: row.usage ?? null }
    },
    {
      ...doc('request-log', 'One request, with the usage the provider reported', Type.Object({ entry: Entry, usage: Type.Unknown() })),
    },
  )
}
