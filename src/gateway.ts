/** Builds a running gateway from a loaded config: database, keys, routes, proxy, request log. */
import type { LoadedConfig } from './config/load'
import type { Config } from './config/schema'
import { openDatabase, type Database } from './db/client'
import { KeyStore } from './auth/keystore'
import { RouteTable } from './proxy/routes'
import { RequestLogWriter } from './log/request-log'
import { BatchWriter } from './db/batch-writer'
import { Proxy } from './proxy/handler'
import type { RequestHooks } from './proxy/context'
import type { RequestSink } from './proxy/record'
import { createApp, type App } from './app'
import { Spend } from './spend/service'
import { SpendHooks } from './spend/hooks'
import type { Clock } from './spend/windows'
import { createTelemetry, type Telemetry } from './telemetry'
import type { LogOutput } from './telemetry/logger'
import { startAdmin, type AdminState } from './admin'

export interface Gateway {
  config: Config
  database: Database
  keys: KeyStore
  routes: RouteTable
  /** Off-thread batched writes (request log, ledger): nothing on the request path waits on the DB. */
  writer: BatchWriter
  requestLog: RequestLogWriter
  /** Prices, budgets, ledger and credits (src/spend/). */
  spend: Spend
  spendHooks: SpendHooks
  /** Traces, metrics, the request log line and the redactor (src/telemetry/). */
  telemetry: Telemetry
  proxy: Proxy
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
}

export interface GatewayOptions {
  /** Extra sinks and hooks (tests, telemetry, spend). */
  sinks?: RequestSink[]
  hooks?: RequestHooks[]
  /** Clock for circuit breakers and random source for weighted routing (tests inject both). */
  now?: () => number
  random?: () => number
  /** Clock for spend windows (tests inject one). */
  spendClock?: Clock
  /** Where request log lines go instead of `[logging]`'s stdout or file (tests). */
  logOutput?: LogOutput
}

export async function createGateway(loaded: LoadedConfig, opts: GatewayOptions = {}): Promise<Gateway> {
  const config = loaded.config
  const database = await openDatabase(config.database.url, config.database.auth_token)
  const keys = new KeyStore(database.db, config)
  await keys.refresh()
  keys.startRefreshing()
  const routes = new RouteTable(config)
  const writer = new BatchWriter(config.database.url, config.database.auth_token, config.log.flush_interval_ms)
  const requestLog = new RequestLogWriter(writer)
  // Sweeps what a crash left open and rebuilds the budget before any request is admitted.
  const spend = await Spend.open(database.db, writer, config, { clock: opts.spendClock })
  const spendHooks = new SpendHooks(spend)
  // Telemetry hooks go first (they never throw, so a refused request still has its span);
  // its redacting sink runs before the request log stores paths and models, its other sinks after settle.
  const telemetry = createTelemetry(config, { inflight: () => proxy.inflight, logOutput: opts.logOutput })
  const proxy = new Proxy({ config, keys, routes, sinks: [telemetry.redactSink, requestLog, ...telemetry.sinks, ...(opts.sinks ?? [])], hooks: [...telemetry.hooks, spendHooks, ...(opts.hooks ?? [])], now: opts.now, random: opts.random })
  telemetry.setBreakerSource(() => proxy.breakers.snapshot())
  const gw: Gateway = {
    config,
    database,
    keys,
    routes,
    writer,
    requestLog,
    spend,
    spendHooks,
    telemetry,
    proxy,
    app: undefined as unknown as App,
    applyConfig(next: Config) {
      const table = new RouteTable(next)
      gw.routes = table
      proxy.setConfig(next, table)
      spend.configure(next)
    },
    async close() {
      gw.admin?.stop()
      keys.stop()
      await spend.stop()
      await writer.close()
      database.close()
      // Sends the last spans and log lines (bounded by [otel] timeout_ms when a backend is down).
      await telemetry.close()
    },
  }
  // Loads admin-created entities (an id also in config.toml stops the start) and applies the merge.
  if (config.admin.enabled) gw.admin = await startAdmin(gw, { configPath: loaded.path })
  gw.app = createApp(gw)
  return gw
}
