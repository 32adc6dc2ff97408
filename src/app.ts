/** The HTTP surface: health, readiness, and every provider route through the proxy. */
import { Elysia } from 'elysia'
import type { Gateway } from './gateway'
import { NAME, VERSION } from './version'

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
    .all('/*', function proxyRoute({ request, server }) {
      return gw.proxy.handle(request, server ?? undefined)
    }, { parse: 'none' })
}

export type App = ReturnType<typeof createApp>
