/**
 * The connect timeout. Bun's fetch has no connect-phase timeout of its own (its `timeout` is a
 * socket idle timer, which would also cut a slow non-streamed answer), so while the real request
 * starts, a bare TCP connect to the same origin runs beside it: if that cannot connect within
 * `connect_ms`, the origin is unreachable and the attempt is aborted. An origin that answered
 * recently is known to be reachable and is not probed, so a warm gateway sends no extra SYNs.
 */

const NOOP = () => {}

/** How long an answer from an origin counts as proof that it is reachable. */
const WARM_MS = 30_000
const warm = new Map<string, number>()

export type Connector = (hostname: string, port: number) => Promise<{ close(): void }>

const tcpConnect: Connector = async (hostname, port) => {
  const socket = await Bun.connect({ hostname, port, socket: { data() {}, error() {} } })
  return { close: () => socket.end() }
}

/** Records that an origin answered (any HTTP status). */
export function markReachable(url: string): void {
  const origin = originOf(url)
  if (origin) warm.set(origin.key, performance.now())
}

/**
 * Starts watching the connect phase of a request to `url`; calls `onTimeout` if the origin
 * cannot be connected to within `ms`. Returns a function that stops watching.
 */
export function watchConnect(url: string, ms: number, onTimeout: () => void, connect: Connector = tcpConnect): () => void {
  const origin = originOf(url)
  if (ms <= 0 || !origin) return NOOP
  // Warm first: the environment lookups of viaProxy cost more than the rest of this path.
  const seen = warm.get(origin.key)
  if (seen !== undefined && performance.now() - seen < WARM_MS) return NOOP
  if (viaProxy(origin.protocol)) return NOOP
  let settled = false
  const timer = setTimeout(() => {
    settled = true
    onTimeout()
  }, ms)
  connect(origin.hostname, origin.port).then(
    (s) => {
      s.close()
      if (settled) return
      settled = true
      clearTimeout(timer)
    },
    () => {
      // Refused or unresolvable: the request's own fetch fails with the real error.
      if (settled) return
      settled = true
      clearTimeout(timer)
    },
  )
  return () => {
    if (settled) return
    settled = true
    clearTimeout(timer)
  }
}

interface Origin {
  key: string
  hostname: string
  port: number
  protocol: string
}

/** Parsed origins by their URL prefix: two lookups per request, never a URL parse. */
const origins = new Map<string, Origin | null>()

function originOf(url: string): Origin | undefined {
  const end = url.indexOf('/', url.indexOf('//') + 2)
  const head = end < 0 ? url : url.slice(0, end)
  let o = origins.get(head)
  if (o === undefined) {
    o = parseOrigin(head)
    if (origins.size > 1000) origins.clear()
    origins.set(head, o)
  }
  return o ?? undefined
}

function parseOrigin(head: string): Origin | null {
  try {
    const u = new URL(head)
    const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80
    return { key: `${u.hostname}:${port}`, hostname: u.hostname.replace(/^\[|\]$/g, ''), port, protocol: u.protocol }
  } catch {
    return null
  }
}

/** Behind an HTTP proxy the TCP connect goes to the proxy, so a probe would prove nothing. */
function viaProxy(protocol: string): boolean {
  const env = process.env
  const set = protocol === 'https:' ? env.HTTPS_PROXY || env.https_proxy : env.HTTP_PROXY || env.http_proxy
  return !!(set || env.ALL_PROXY || env.all_proxy)
}
