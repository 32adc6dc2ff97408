/**
 * Serving `/metrics`: on the main listener, or on a listener of its own (`[metrics] listen`),
 * optionally behind `Authorization: Bearer <token>` (compared in constant time).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { Server } from 'bun'
import type { GatewayMetrics } from './metrics'
import { parseListen } from '../config/listen'

/** `token()` is read per scrape, so a changed config applies at once. */
export function metricsHandler(metrics: GatewayMetrics, token: () => string | undefined): (request: Request) => Promise<Response> {
  return async function serveMetrics(request: Request): Promise<Response> {
    const t = token()
    const want = t ? digest(t) : undefined
    if (want) {
      const m = /^Bearer\s+(.+)$/i.exec(request.headers.get('authorization') ?? '')
      if (!m || !timingSafeEqual(digest(m[1]!.trim()), want)) {
        return new Response('unauthorized\n', { status: 401, headers: { 'www-authenticate': 'Bearer realm="metrics"', 'content-type': 'text/plain' } })
      }
    }
    return new Response(await metrics.render(), { headers: { 'content-type': metrics.contentType() } })
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest()
}

export interface MetricsListener {
  url: string
  stop(): Promise<void>
}

/** A separate listener that answers `/metrics` and nothing else. */
export function listenMetrics(address: string, handler: (r: Request) => Promise<Response>): MetricsListener {
  const { hostname, port } = parseListen(address)
  const server: Server<unknown> = Bun.serve({
    hostname,
    port,
    reusePort: false,
    fetch(request) {
      return new URL(request.url).pathname === '/metrics' && request.method === 'GET' ? handler(request) : new Response('not found\n', { status: 404 })
    },
  })
  const host = hostname.includes(':') ? `[${hostname}]` : hostname
  return { url: `http://${host}:${server.port}`, stop: () => server.stop(true) }
}
