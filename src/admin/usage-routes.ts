/** The routes of usage aggregates; what they do is in src/admin/usage.ts. */
import { doc, type AdminApi } from './api'
import { Series, SeriesQuery, Summary, SummaryQuery, usageSeries, usageSummary } from './usage'

export function usageRoutes(api: AdminApi): void {
  api.get(
    '/usage/summary',
    ({ ctx, p, query }) => usageSummary(ctx, p, query),
    {
      query: SummaryQuery,
      ...doc('usage', 'Spend, requests, tokens and errors today, this week (from Monday) and this month, in limits.timezone (as the limits count them)', Summary),
    },
  )
  api.get(
    '/usage/series',
    ({ ctx, p, query }) => usageSeries(ctx, p, query),
    {
      query: SeriesQuery,
      ...doc('usage', 'Spend, requests, errors and latency per time bucket, grouped by project, user, model, key or provider', Series),
    },
  )
}
