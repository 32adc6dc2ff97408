/**
 * Serving: listen, print the start-up line, and shut down gracefully on SIGTERM/SIGINT
 * (stop accepting, let requests and streams finish within the grace period, flush, exit 0).
 * Plain HTTP/1.1 is Bun.serve on the port itself; with TLS or HTTP/2 on, a front listener
 * owns the port (src/net/front.ts) and Bun.serve listens on a loopback port behind it.
 */
import { readFile } from 'node:fs/promises'
import { describeOpenFiles, startupOpenFiles } from './proxy/rlimit'
// Loaded only when TLS or HTTP/2 is on: a plain start does not pay for node:tls and node:http2.
import type { H2Bridge } from './net/h2-bridge'
import type { Front } from './net/front'
import type { Config } from './config/schema'
import type { Gateway } from './gateway'
import { ConfigError, loadConfigFile } from './config/load'
import { parseListen } from './config/listen'
import { describeDatabaseUrl } from './db/client'
import { VERSION } from './version'

export interface Listening {
  url: string
  port: number
  /** The separate `/metrics` listener, when `[metrics] listen` is set. */
  metricsUrl?: string
  stop(): Promise<void>
  /**
   * Reads `[server] tls_cert` / `tls_key` again and checks them (throws on a bad pair); the
   * returned function serves them to new connections (SIGHUP). Open connections keep theirs.
   */
  prepareCertificate?(server: Config['server']): Promise<() => void>
  /** HTTP/2 is served on the port (`[server] http2`). */
  http2?: boolean
}

export { parseListen }

/** The proxy enforces its own (smaller) limit with a native 413; this is the hard stop. */
const hardBodyLimit = (s: Config['server']) => s.max_body_bytes + 1024 * 1024
const IDLE_SECONDS = 120

/**
 * Listens on `address` as `[server]` says: Bun.serve alone for plain HTTP/1.1 (the fast path),
 * or the front listener when `tls_cert` or `http2` is set.
 */
export async function serve(gw: Gateway, address: string, configPath: string): Promise<Listening> {
  const s = gw.config.server
  if (!s.tls_cert && !s.http2) return listen(gw, address, configPath)
  const { hostname, port } = parseListen(address)
  const tls = s.tls_cert && s.tls_key ? await loadCertificate(s, configPath) : undefined
  // Behind the front, on loopback: its connections' ports name their clients (src/net/peers.ts).
  // A local process reaching it directly gets the same routes without TLS, as on the public port.
  gw.app.listen({ hostname: '127.0.0.1', port: 0, reusePort: false, maxRequestBodySize: hardBodyLimit(s), idleTimeout: IDLE_SECONDS })
  const [{ createH2Bridge }, { startFront }] = await Promise.all([import('./net/h2-bridge'), import('./net/front')])
  const h2 = s.http2 ? createH2Bridge((r) => gw.app.fetch(r), { scheme: tls ? 'https' : 'http', maxBodyBytes: hardBodyLimit(s), idleTimeoutMs: IDLE_SECONDS * 1000 }) : undefined
  let front: Front
  try {
    front = await startFront({ hostname, port, http1Port: gw.app.server!.port!, h2: h2?.server, tls, idleTimeoutMs: IDLE_SECONDS * 1000 })
  } catch (e) {
    await gw.app.server?.stop(true)
    throw e
  }
  const url = `${tls ? 'https' : 'http'}://${hostname.includes(':') ? `[${hostname}]` : hostname}:${front.port}`
  const protocols = `${tls ? 'TLS, ' : ''}${h2 ? (tls ? 'HTTP/2 (ALPN h2) and ' : 'HTTP/2 (h2c) and ') : ''}HTTP/1.1`
  const metricsUrl = announce(gw, url, configPath, protocols)
  let stopping: Promise<void> | undefined
  return {
    url,
    port: front.port,
    metricsUrl,
    http2: Boolean(h2),
    stop: () => (stopping ??= shutdown(gw, s.shutdown_grace_seconds * 1000, { front, h2 })),
    prepareCertificate: tls
      ? async (next) => {
          // Throws here, before anything changes, when the files are not a matching PEM pair.
          const c = await loadCertificate(next, configPath)
          return () => front.setCertificate(c.cert, c.key)
        }
      : undefined,
  }
}

/** Reads `tls_cert` and `tls_key` and checks they are a usable pair; a ConfigError naming the file if not. */
async function loadCertificate(s: Config['server'], configPath: string): Promise<{ cert: string; key: string }> {
  const fields = ['tls_cert', 'tls_key'] as const
  const files = await Promise.allSettled(fields.map((f) => readFile(s[f]!, 'utf8')))
  const problems = files.flatMap((r, i) =>
    r.status === 'rejected' ? [{ path: `server.${fields[i]}`, message: `cannot read ${s[fields[i]!]}: ${(r.reason as Error).message}` }] : [],
  )
  if (problems.length) throw new ConfigError(configPath, problems)
  const [cert, key] = files.map((r) => (r as PromiseFulfilledResult<string>).value) as [string, string]
  try {
    const { createSecureContext } = await import('node:tls')
    createSecureContext({ cert, key })
  } catch (e) {
    throw new ConfigError(configPath, [{ path: 'server.tls_cert', message: `${s.tls_cert} and ${s.tls_key} are not a usable certificate and key: ${(e as Error).message}` }])
  }
  return { cert, key }
}

/** Plain HTTP/1.1: Bun.serve on the port itself. */
export function listen(gw: Gateway, address: string, configPath: string): Listening {
  const { hostname, port } = parseListen(address)
  gw.app.listen({
    hostname,
    port,
    // Two instances must never share a port silently.
    reusePort: false,
    maxRequestBodySize: hardBodyLimit(gw.config.server),
    idleTimeout: IDLE_SECONDS,
  })
  const server = gw.app.server!
  const url = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${server.port}`
  const metricsUrl = announce(gw, url, configPath)
  let stopping: Promise<void> | undefined
  return {
    url,
    port: server.port!,
    metricsUrl,
    stop: () => (stopping ??= shutdown(gw, gw.config.server.shutdown_grace_seconds * 1000)),
  }
}

/** The start-up line; returns the `/metrics` listener's URL when it has one. */
function announce(gw: Gateway, url: string, configPath: string, protocols?: string): string | undefined {
  const enabled = gw.config.providers.filter((p) => p.enabled !== false).map((p) => p.id)
  const disabled = gw.config.providers.filter((p) => p.enabled === false).map((p) => p.id)
  // Stopped by gw.close(), after the last requests, so a final scrape still works while draining.
  const metricsUrl = gw.telemetry.listenMetrics()?.url
  console.log(
    `tollgate ${VERSION} listening on ${url}${protocols ? ` (${protocols})` : ''} · config ${configPath} · database ${describeDatabaseUrl(gw.database.url)} · ` +
      `providers enabled: ${enabled.join(', ') || 'none'} · disabled: ${disabled.join(', ') || 'none'}` +
      (metricsUrl ? ` · metrics ${metricsUrl}/metrics` : '') +
      ` · ${describeOpenFiles(startupOpenFiles())} · max in flight ${gw.proxy.admission.maxInflight}`,
  )
  return metricsUrl
}

async function shutdown(gw: Gateway, graceMs: number, front?: { front: Front; h2?: H2Bridge }): Promise<void> {
  const server = gw.app.server
  // /ready turns 503 for connections a load balancer keeps open.
  gw.draining = true
  // Stop accepting; connections already open keep going (HTTP/2 clients get a GOAWAY: no new streams).
  front?.front.close()
  for (const session of front?.h2?.sessions ?? []) session.close()
  await server?.stop(false)
  const deadline = Date.now() + graceMs
  while (gw.proxy.inflight > 0 && Date.now() < deadline) await Bun.sleep(50)
  if (gw.proxy.inflight > 0) {
    console.log(`shutdown: grace period over with ${gw.proxy.inflight} request(s) still open; closing them`)
    await server?.stop(true)
    front?.front.destroyAll()
  }
  await gw.close()
}

/** SIGTERM and SIGINT both drain and exit 0; a second signal exits at once. */
export function handleSignals(stop: () => Promise<void>): void {
  let signalled = false
  const onSignal = (sig: string) => {
    if (signalled) process.exit(1)
    signalled = true
    console.log(`${sig}: draining in-flight requests`)
    stop().then(
      () => process.exit(0),
      (e) => {
        console.error(`shutdown failed: ${(e as Error).message}`)
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => onSignal('SIGTERM'))
  process.on('SIGINT', () => onSignal('SIGINT'))
}

/**
 * SIGHUP reloads config.toml without dropping a request: the new file is loaded and validated
 * first; if it is invalid, its problems are printed and the running config stays in force.
 * Reloads never overlap (a SIGHUP during one runs once it ends). With TLS on, the certificate
 * and key files are read again: new connections get the new certificate, open ones keep going.
 */
export function handleReload(gw: Gateway, path: string, listening?: Listening): void {
  let running: Promise<void> | undefined
  let again = false
  const reload = async () => {
    try {
      const loaded = await loadConfigFile(path)
      for (const w of loaded.warnings) console.error(`warning: ${w}`)
      const next = loaded.config.server
      const applyCertificate = next.tls_cert && listening?.prepareCertificate ? await listening.prepareCertificate(next) : undefined
      const notes = await gw.reload(loaded)
      applyCertificate?.()
      for (const note of [...notes, ...listenerChanges(listening, next)]) console.error(`SIGHUP: note: ${note}`)
      console.log(`SIGHUP: reloaded ${path}`)
    } catch (e) {
      const why = e instanceof ConfigError ? e.message : `reload failed: ${(e as Error).message}`
      console.error(`SIGHUP: ${path} refused; the running config stays in force.\n${why}`)
    }
  }
  process.on('SIGHUP', () => {
    if (running) {
      again = true
      return
    }
    running = (async () => {
      do {
        again = false
        await reload()
      } while (again)
      running = undefined
    })()
  })
}

/** TLS or HTTP/2 switched on or off: the listener changes only at a restart. */
function listenerChanges(listening: Listening | undefined, next: Config['server']): string[] {
  if (!listening) return []
  const notes: string[] = []
  if (Boolean(next.tls_cert) !== Boolean(listening.prepareCertificate)) notes.push('server.tls_cert changed between set and unset; it applies after a restart')
  if (Boolean(next.http2) !== Boolean(listening.http2)) notes.push('server.http2 changed; it applies after a restart')
  return notes
}
