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
  proxy: Proxy
  app: App
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
  const proxy = new Proxy({ config, keys, routes, sinks: [requestLog, ...(opts.sinks ?? [])], hooks: [spendHooks, ...(opts.hooks ?? [])], now: opts.now, random: opts.random })
  const gw: Gateway = {
    config,
    database,
    keys,
    routes,
    writer,
    requestLog,
    spend,
    spendHooks,
    proxy,
    app: undefined as unknown as App,
    async close() {
      keys.stop()
      await spend.stop()
      await writer.close()
      database.close()
    },
  }
  gw.app = createApp(gw)
  return gw
}
