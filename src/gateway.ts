/** Builds a running gateway from a loaded config: database, keys, routes, proxy, request log. */
import type { LoadedConfig } from './config/load'
import type { Config } from './config/schema'
import { openDatabase, type Database } from './db/client'
import { KeyStore } from './auth/keystore'
import { RouteTable } from './proxy/routes'
import { RequestLogWriter } from './log/request-log'
import { Proxy } from './proxy/handler'
import type { RequestHooks } from './proxy/context'
import type { RequestSink } from './proxy/record'
import { createApp, type App } from './app'

export interface Gateway {
  config: Config
  database: Database
  keys: KeyStore
  routes: RouteTable
  requestLog: RequestLogWriter
  proxy: Proxy
  app: App
  /** Drains pending writes and closes the database. */
  close(): Promise<void>
}

export interface GatewayOptions {
  /** Extra sinks and hooks (tests, telemetry, spend). */
  sinks?: RequestSink[]
  hooks?: RequestHooks[]
}

export async function createGateway(loaded: LoadedConfig, opts: GatewayOptions = {}): Promise<Gateway> {
  const config = loaded.config
  const database = await openDatabase(config.database.url, config.database.auth_token)
  const keys = new KeyStore(database.db, config)
  await keys.refresh()
  keys.startRefreshing()
  const routes = new RouteTable(config)
  const requestLog = new RequestLogWriter(database.db, config.log.flush_interval_ms)
  requestLog.start()
  const proxy = new Proxy({ config, keys, routes, sinks: [requestLog, ...(opts.sinks ?? [])], hooks: opts.hooks ?? [] })
  const gw: Gateway = {
    config,
    database,
    keys,
    routes,
    requestLog,
    proxy,
    app: undefined as unknown as App,
    async close() {
      keys.stop()
      await requestLog.stop()
      database.close()
    },
  }
  gw.app = createApp(gw)
  return gw
}
