/** Builds a running gateway from a loaded config: database, keys, routes, proxy, request log. */
import { loadConfigFile, type LoadedConfig } from './config/load'
import type { Config } from './config/schema'
import { backupPolicy, openDatabase, type Database } from './db/client'
import { KeyStore } from './auth/keystore'
import { RouteTable } from './proxy/routes'
import { RequestLogWriter } from './log/request-log'
import { RequestLogRetention } from './log/retention'
import { BatchWriter } from './db/batch-writer'
import { Pipeline } from './proxy/pipeline'
import type { RequestSink } from './proxy/record'
import { createApp, type App } from './app'
import { Spend } from './spend/service'
import { SpendSteps } from './spend/steps'
import type { Clock } from './spend/windows'
import { createTelemetry, type Telemetry } from './telemetry'
import type { LogOutput } from './telemetry/logger'
import { startAdmin, type AdminState } from './admin'
import { RateLimitGate } from './ratelimit/gate'
import { MemoryLimiter } from './ratelimit/memory'
import { tokenEstimator } from './ratelimit/tokens'
import { createCluster, type Cluster } from './cluster'
import { ObjectGuard, ObjectRetention, ObjectStore } from './objects'
import { startupMark } from './startup-timing'

export interface Gateway {
  config: Config
  database: Database
  keys: KeyStore
  routes: RouteTable
  /** Off-thread batched writes (request log, ledger): nothing on the request path waits on the DB. */
  writer: BatchWriter
  requestLog: RequestLogWriter
  /** `[log] retention_days`: prunes old request-log rows (src/log/retention.ts). */
  retention: RequestLogRetention
  /** Prices, budgets, ledger and credits (src/spend/). */
  spend: Spend
  /** Where each request's spend is reserved and settled (src/spend/steps.ts). */
  spendSteps: SpendSteps
  /** Traces, metrics, the request log line and the redactor (src/telemetry/). */
  telemetry: Telemetry
  /** The request path (src/proxy/pipeline.ts). */
  proxy: Pipeline
  app: App
  /** The admin API and UI state (src/admin/); absent when `[admin] enabled = false`. */
  admin?: AdminState
  /**
   * Puts a new Config live: routes, proxy (projects, users, providers) and spend. The admin
   * directory calls it with config.toml merged with the entities created through the admin API.
   */
  applyConfig(next: Config): void
  /** Drains pending writes and closes the database. */
  close(): Promise<void>
  /** Rate limits of keys, users and projects (src/ratelimit/): in memory, or Redis in a cluster. */
  rateLimits: RateLimitGate
  /** Shared limits and change notices through Redis (src/cluster/); absent without `[cluster] redis_url`. */
  cluster?: Cluster
  /** Provider-side objects kept within their project (src/objects/). */
  objects: { store: ObjectStore; guard: ObjectGuard; retention: ObjectRetention }
  /** Set while shutting down: /ready answers 503 so a load balancer sends new traffic elsewhere. */
  draining?: boolean
  /** The config the proxy runs now (config.toml merged with admin-created entities). */
  proxyConfig(): Config
  /**
   * Puts a reloaded config.toml live between requests (SIGHUP): config keys, routes, proxy,
   * spend, the admin directory's merge, then the reload listeners (cluster notice, …).
   * Requests in flight keep the config they started with. Throws ConfigError when the new
   * file clashes with the database (the old config stays); returns notes on settings that
   * only a restart applies.
   */
  reload(loaded: LoadedConfig): Promise<string[]>
  /** Reads config.toml again from the path it was loaded from, and reloads it. */
  reloadFromFile(): Promise<string[]>
  /** Called after every reload(), with the new config.toml. */
  onReload(f: (config: Config) => void): void
  /** Called after every applyConfig() (a reload, or a change through the admin API). */
  onConfigApplied(f: (config: Config) => void): void
}

export interface GatewayOptions {
  /** Extra observers of finished requests (tests). */
  sinks?: RequestSink[]
  /** Clock for circuit breakers and random source for weighted routing (tests inject both). */
  now?: () => number
  random?: () => number
  /** Clock for spend windows (tests inject one). */
  spendClock?: Clock
  /** Where request log lines go instead of `[logging]`'s stdout or file (tests). */
  logOutput?: LogOutput
  /** Where the first-start admin setup link is printed (default: the console; tests silence it). */
  announce?: (line: string) => void
}

export async function createGateway(loaded: LoadedConfig, opts: GatewayOptions = {}): Promise<Gateway> {
  const config = loaded.config
  // A new version's migrations run here, after a backup of an existing file (src/db/pre-migrate-backup.ts).
  const database = await openDatabase(config.database.url, config.database.auth_token, { backup: backupPolicy(config.database) })
  startupMark('database')
  const keys = new KeyStore(database.db, config)
  await keys.refresh()
  startupMark('keys')
  keys.startRefreshing()
  const routes = new RouteTable(config)
  const writer = new BatchWriter(config.database.url, config.database.auth_token, config.log.flush_interval_ms, { maxRows: config.database.outage_queue_rows, maxBytes: config.database.outage_queue_bytes })
  const requestLog = new RequestLogWriter(writer)
  const retention = new RequestLogRetention(database.db, config.log.retention_days)
  // Sweeps what a crash left open and rebuilds the budget before any request is admitted.
  const spend = await Spend.open(database.db, writer, config, { clock: opts.spendClock })
  startupMark('spend')
  const spendSteps = new SpendSteps(spend)
  const rateLimits = new RateLimitGate(new MemoryLimiter(), tokenEstimator(spend))
  const cluster = createCluster(config, spend)
  const objectStore = new ObjectStore(database.db, writer)
  const objects = { store: objectStore, guard: new ObjectGuard(objectStore), retention: new ObjectRetention(database.db) }
  const telemetry = createTelemetry(config, { inflight: () => proxy.inflight, openStreams: () => proxy.streams, logOutput: opts.logOutput })
  startupMark('telemetry')
  // The order of the steps is the pipeline's (src/proxy/pipeline.ts); observers read finished requests in this order.
  const proxy = new Pipeline({
    config,
    keys,
    routes,
    steps: { objects: objects.guard, rates: rateLimits, spend: spendSteps, shared: cluster?.budget, tracing: telemetry.tracingSteps, redact: telemetry.redactor.text },
    observers: [requestLog, ...telemetry.sinks, ...(opts.sinks ?? [])],
    now: opts.now,
    random: opts.random,
    isLimited: (k, u, p) => spend.isLimited(k, u, p),
  })
  telemetry.setBreakerSource(() => proxy.breakers.snapshot())
  proxy.admission.registerMetrics(telemetry.metrics.registry)
  writer.registerMetrics(telemetry.metrics.registry, telemetry.redactor.text)
  // A request whose ledger and log rows could not be kept is not served (src/db/batch-writer.ts).
  proxy.admission.addGate(() =>
    writer.full ? { message: 'The gateway cannot record requests right now (its database is not taking writes and the write queue is full); try again shortly.', retryAfterSecs: 5 } : undefined,
  )
  let running = config
  let configPath = loaded.path
  const reloadListeners: ((c: Config) => void)[] = []
  const appliedListeners: ((c: Config) => void)[] = []
  const gw: Gateway = {
    config,
    database,
    keys,
    routes,
    writer,
    requestLog,
    retention,
    spend,
    spendSteps,
    telemetry,
    proxy,
    app: undefined as unknown as App,
    applyConfig(next: Config) {
      const table = new RouteTable(next)
      gw.routes = table
      proxy.setConfig(next, table)
      telemetry.configure(next)
      spend.configure(next)
      retention.configure(next.log.retention_days)
      running = next
      for (const f of appliedListeners) f(next)
    },
    async close() {
      await gw.admin?.stop()
      keys.stop()
      await spend.stop()
      // After spend: the last settlements are sent and this instance leaves the heartbeat set.
      await gw.cluster?.stop()
      await retention.stop()
      await objects.retention.stop()
      await writer.close()
      await database.close()
      // Sends the last spans and log lines (bounded by [otel] timeout_ms when a backend is down).
      await telemetry.close()
    },
    rateLimits,
    cluster,
    objects,
    proxyConfig: () => running,
    async reload(next: LoadedConfig) {
      const notes = restartOnlyChanges(gw.config, next.config)
      if (gw.admin) {
        // The directory merges config.toml with the database; it takes the new file (and refuses a clash).
        await gw.admin.ctx.dir.replaceFile(next.config)
        gw.admin.ctx.config = next.config
      } else gw.applyConfig(next.config)
      keys.setConfig(next.config)
      gw.config = next.config
      configPath = next.path
      for (const f of reloadListeners) f(next.config)
      return notes
    },
    async reloadFromFile() {
      return gw.reload(await loadConfigFile(configPath))
    },
    onReload(f) {
      reloadListeners.push(f)
    },
    onConfigApplied(f) {
      appliedListeners.push(f)
    },
  }
  // Loads admin-created entities (an id also in config.toml stops the start) and applies the merge.
  if (config.admin.enabled) gw.admin = await startAdmin(gw, { configPath: loaded.path, announce: opts.announce })
  startupMark('admin')
  // Connects to Redis and waits until the shared counters are usable (or Redis is known down).
  await cluster?.start(gw)
  gw.app = createApp(gw)
  retention.start()
  objects.retention.start()
  return gw
}

/** Settings a running process cannot change: a reload keeps them until the next restart, and says so. */
const RESTART_ONLY = ['server.listen', 'database', 'cluster', 'metrics.listen', 'metrics.enabled', 'admin.enabled', 'secrets', 'log.flush_interval_ms', 'otel', 'logging'] as const

export function restartOnlyChanges(prev: Config, next: Config): string[] {
  const at = (c: Config, path: string) => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], c)
  return RESTART_ONLY.filter((p) => JSON.stringify(at(prev, p)) !== JSON.stringify(at(next, p))).map((p) => `${p} changed; it applies after a restart`)
}
