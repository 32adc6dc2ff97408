/**
 * The connect timeout. Bun's fetch has no connect-phase timeout of its own (its `timeout` is a
 * socket idle timer, which would also cut a slow non-streamed answer), so while the real request
 * starts, a bare TCP connect to the same origin runs beside it: if that cannot connect within
 * `connect_ms`, the origin is unreachable and the attempt is aborted. An origin that answered
 * recently is known to be reachable and is not probed, so a warm gateway sends no extra SYNs.
 *
 * One probe per cold origin at a time: every request that starts while it runs waits on the same
 * probe (a burst of 8,000 streams at a cold gateway would otherwise open 8,000 extra sockets and
 * run out of file descriptors). A probe that connects warms the origin for everyone.
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

/** The probe in flight for an origin, and the requests waiting on its verdict. */
interface Probe {
  waiting: Set<() => void>
}
const probes = new Map<string, Probe>()

/** Records that an origin answered (any HTTP status). */
export function markReachable(url: string): void {
  const origin = originOf(url)
  if (origin) warm.set(origin.key, performance.now())
}

/** Probes in flight (tests read it). */
export function probesInFlight(): number {
  return probes.size
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
  let probe = probes.get(origin.key)
  if (!probe) probe = startProbe(origin, ms, connect)
  const waiting = probe.waiting
  waiting.add(onTimeout)
  return () => waiting.delete(onTimeout)
}

function startProbe(origin: Origin, ms: number, connect: Connector): Probe {
  const probe: Probe = { waiting: new Set() }
  probes.set(origin.key, probe)
  let settled = false
  const settle = () => {
    settled = true
    clearTimeout(timer)
    if (probes.get(origin.key) === probe) probes.delete(origin.key)
  }
  const timer = setTimeout(() => {
    if (settled) return
    settle()
    for (const f of probe.waiting) f()
    probe.waiting.clear()
  }, ms)
  connect(origin.hostname, origin.port).then(
    (s) => {
      s.close()
      if (settled) return
      settle()
      warm.set(origin.key, performance.now())
    },
    () => {
      // Refused, unresolvable or out of sockets here: each request's own fetch fails with the real error.
      if (!settled) settle()
    },
  )
  return probe
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
