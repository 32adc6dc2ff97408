/**
 * What the object-kind upstreams (upstream.ts, container-upstream.ts) share: a local server that
 * counts every call by `METHOD /path` (so a test can prove a refused request never arrived),
 * reads the body once, and hands `/<provider>/<rest>` to that provider's handler.
 */
export type Json = Record<string, unknown>

export const now = () => Math.floor(Date.now() / 1000)

/** Short ids that never repeat within one upstream. */
export function idCounter(): () => string {
  let n = 0
  return () => (++n).toString(36).padStart(6, '0')
}

/** Google's not-found body (Gemini API and Vertex AI alike). */
export const googleMissing = () => Response.json({ error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } }, { status: 404 })

/** A call no handler knows: 418, so a test that meant another path fails loudly. */
export const unexpected = (m: string, p: string) => Response.json({ error: { message: `unexpected ${m} ${p}` } }, { status: 418 })

export interface CountedServer {
  url: string
  /** Calls so far, by `METHOD /path` (no query). */
  calls: Map<string, number>
  count(method: string, path: string): number
  total(): number
  stop(): void
}

/** `route` gets the provider (the first path segment, one of `providers`), the rest of the path, and the body as JSON on demand. */
export function serveCounted(
  providers: string[],
  route: (provider: string, m: string, p: string, json: () => Json, req: Request, u: URL) => Response | Promise<Response>,
): CountedServer {
  const calls = new Map<string, number>()
  const prefix = new RegExp(`^/(${providers.join('|')})(/.*)$`)
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req): Promise<Response> {
      const u = new URL(req.url)
      const m = req.method
      calls.set(`${m} ${u.pathname}`, (calls.get(`${m} ${u.pathname}`) ?? 0) + 1)
      const body = m === 'GET' || m === 'DELETE' ? '' : await req.text()
      const json = (): Json => (body.startsWith('{') ? (JSON.parse(body) as Json) : {})
      const [, provider, p] = prefix.exec(u.pathname) ?? []
      return provider ? route(provider, m, p!, json, req, u) : unexpected(m, u.pathname)
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    calls,
    count: (method, path) => calls.get(`${method} ${path}`) ?? 0,
    total: () => [...calls.values()].reduce((a, b) => a + b, 0),
    stop: () => server.stop(true),
  }
}
