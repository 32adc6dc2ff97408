/** The HTTP surface: health, readiness, and every provider route through the proxy. */
import { Elysia } from 'elysia'
import type { Gateway } from './gateway'
import { NAME, VERSION } from './version'
import { adminPlugin } from './admin'
import { spendRoute } from './spend/route'

export function createApp(gw: Gateway) {
  return new Elysia({ name: 'tollgate' })
    .get('/', () => ({ name: NAME, version: VERSION }))
    .get('/health', () => ({ status: 'ok' }))
    .get('/ready', async ({ set }) => {
      try {
        await gw.database.client.execute('SELECT 1')
        return { status: 'ready', database: 'ok' }
      } catch {
        set.status = 503
        return { status: 'not_ready', database: 'unreachable' }
      }
    })
    // Prometheus; with metrics off or on their own listener, the path is an ordinary (unknown) route.
    .get('/metrics', function metricsRoute({ request, server }) {
      const serve = gw.telemetry.metricsOnMain ? gw.telemetry.serveMetrics : undefined
      return serve ? serve(request) : gw.proxy.handle(request, server ?? undefined)
    })
    // Spend, limits and reset times as JSON (src/spend/route.ts); also under /proxy like every route.
    .get('/v1/spend', function spendReport({ request }) {
      return spendRoute(request, gw.spend, gw.keys)
    })
    .get('/proxy/v1/spend', function spendReportProxy({ request }) {
      return spendRoute(request, gw.spend, gw.keys)
    })
    // The admin UI and API: a router of its own, mounted before the proxy's catch-all.
    .use(adminPlugin(gw))
    .all('/*', function proxyRoute({ request, server }) {
      return gw.proxy.handle(request, server ?? undefined)
    }, { parse: 'none' })
}

export type App = ReturnType<typeof createApp>
