/** The HTTP surface: health, readiness, and every provider route through the proxy. */
import { Elysia } from 'elysia'
import type { Gateway } from './gateway'
import { NAME, VERSION } from './version'
import { adminPlugin } from './admin'
import { spendRoute } from './spend/route'
import { modelsRoute } from './proxy/frontdoor-models'

export function createApp(gw: Gateway) {
  // normalize: false, so that a body field no schema declares is refused (400), not silently
  // dropped: Elysia compiles every route's validator with the root app's setting (src/admin/api.ts).
  return new Elysia({ name: 'tollgate', normalize: false })
    .get('/', () => ({ name: NAME, version: VERSION }))
    .get('/health', () => ({ status: 'ok' }))
    .get('/ready', async ({ set }) => {
      // The cluster's state is reported either way: a Redis outage hits every instance alike, so
      // it does not make this one unready (on_redis_down decides what limited keys get).
      const cluster = gw.cluster ? { cluster: gw.cluster.status() } : {}
      if (gw.draining) {
        set.status = 503
        return { status: 'draining', ...cluster }
      }
      try {
        await gw.database.ping()
        return { status: 'ready', database: 'ok', ...cluster }
      } catch {
        set.status = 503
        return { status: 'not_ready', database: 'unreachable', ...cluster }
      }
    })
    // Prometheus; with metrics off or on their own listener, the path is an ordinary (unknown) route.
    .get('/metrics', function metricsRoute({ request, server }) {
      const serve = gw.telemetry.metricsOnMain ? gw.telemetry.serveMetrics : undefined
      return serve ? serve(request) : gw.proxy.handle(request, server ?? undefined)
    })
    // Spend, limits and reset times as JSON (src/spend/route.ts); also under /proxy like every route.
    .get('/v1/spend', function spendReport({ request }) {
      return spendRoute(request, gw.spend, gw.keys, gw.telemetry.redactor.text)
    })
    .get('/proxy/v1/spend', function spendReportProxy({ request }) {
      return spendRoute(request, gw.spend, gw.keys, gw.telemetry.redactor.text)
    })
    // The front door's model list (src/proxy/frontdoor-models.ts); its chat and embeddings go through the proxy.
    .get('/v1/models', function frontDoorModels({ request }) {
      return modelsRoute(request, gw.keys, gw.proxyConfig(), gw.routes, gw.telemetry.redactor.text)
    })
    .get('/v1/models/*', function frontDoorModel({ request }) {
      return modelsRoute(request, gw.keys, gw.proxyConfig(), gw.routes, gw.telemetry.redactor.text)
    })
    .get('/proxy/v1/models', function frontDoorModelsProxy({ request }) {
      return modelsRoute(request, gw.keys, gw.proxyConfig(), gw.routes, gw.telemetry.redactor.text)
    })
    .get('/proxy/v1/models/*', function frontDoorModelProxy({ request }) {
      return modelsRoute(request, gw.keys, gw.proxyConfig(), gw.routes, gw.telemetry.redactor.text)
    })
    // The admin UI and API: a router of its own, mounted before the proxy's catch-all.
    .use(adminPlugin(gw))
    .all('/*', function proxyRoute({ request, server }) {
      return gw.proxy.handle(request, server ?? undefined)
    }, { parse: 'none' })
}

export type App = ReturnType<typeof createApp>
