/**
 * Serving: listen, print the start-up line, and shut down gracefully on SIGTERM/SIGINT
 * (stop accepting, let requests and streams finish within the grace period, flush, exit 0).
 */
import { describeOpenFiles, startupOpenFiles } from './proxy/rlimit'
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
}

export { parseListen }

export function listen(gw: Gateway, address: string, configPath: string): Listening {
  const { hostname, port } = parseListen(address)
  gw.app.listen({
    hostname,
    port,
    // Two instances must never share a port silently.
    reusePort: false,
    // The proxy enforces its own (smaller) limit with a native 413; this is the hard stop.
    maxRequestBodySize: gw.config.server.max_body_bytes + 1024 * 1024,
    idleTimeout: 120,
  })
  const server = gw.app.server!
  const url = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${server.port}`
  const enabled = gw.config.providers.filter((p) => p.enabled !== false).map((p) => p.id)
  const disabled = gw.config.providers.filter((p) => p.enabled === false).map((p) => p.id)
  // Stopped by gw.close(), after the last requests, so a final scrape still works while draining.
  const metricsUrl = gw.telemetry.listenMetrics()?.url
  console.log(
    `tollgate ${VERSION} listening on ${url} · config ${configPath} · database ${describeDatabaseUrl(gw.database.url)} · ` +
      `providers enabled: ${enabled.join(', ') || 'none'} · disabled: ${disabled.join(', ') || 'none'}` +
      (metricsUrl ? ` · metrics ${metricsUrl}/metrics` : '') +
      ` · ${describeOpenFiles(startupOpenFiles())} · max in flight ${gw.proxy.admission.maxInflight}`,
  )
  let stopping: Promise<void> | undefined
  return {
    url,
    port: server.port!,
    metricsUrl,
    stop: () => (stopping ??= shutdown(gw, gw.config.server.shutdown_grace_seconds * 1000)),
  }
}

async function shutdown(gw: Gateway, graceMs: number): Promise<void> {
  const server = gw.app.server
  // /ready turns 503 for connections a load balancer keeps open.
  gw.draining = true
  // Stop accepting; connections already open keep going.
  await server?.stop(false)
  const deadline = Date.now() + graceMs
  while (gw.proxy.inflight > 0 && Date.now() < deadline) await Bun.sleep(50)
  if (gw.proxy.inflight > 0) {
    console.log(`shutdown: grace period over with ${gw.proxy.inflight} request(s) still open; closing them`)
    await server?.stop(true)
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
 * Reloads never overlap (a SIGHUP during one runs once it ends).
 */
export function handleReload(gw: Gateway, path: string): void {
  let running: Promise<void> | undefined
  let again = false
  const reload = async () => {
    try {
      const loaded = await loadConfigFile(path)
      for (const w of loaded.warnings) console.error(`warning: ${w}`)
      for (const note of await gw.reload(loaded)) console.error(`SIGHUP: note: ${note}`)
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
