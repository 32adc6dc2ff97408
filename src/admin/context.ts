/** What every admin route needs: the database, the directory, the clock and the gateway. */
import type { Config } from '../config/schema'
import { parseListen } from '../config/listen'
import type { Db } from '../db/client'
import type { Gateway } from '../gateway'
import type { FailedAttempts } from './attempts'
import type { TrustedProxies } from './client-address'
import type { SecretBox } from './crypto'
import type { Directory } from './directory'
import type { OidcClient } from './oidc'

export interface AdminContext {
  gw: Gateway
  db: Db
  config: Config
  dir: Directory
  /** Undefined when `[secrets] key` is missing or unusable: credentials cannot be stored. */
  box: SecretBox | undefined
  boxProblem: string | undefined
  /** The sign-in client in force; SIGHUP replaces it when `[auth.oidc]` changes. */
  oidc: OidcClient | undefined
  /** config.toml as the process started: settings that only a restart applies are in force from it. */
  started: Config
  now(): number
  /** Failed sign-ins per client address (src/admin/attempts.ts). */
  attempts: FailedAttempts
  /** `[server] trusted_proxies`: whose X-Forwarded-For names the client. */
  trusted: TrustedProxies
  /** Called after a change to gateway keys, so the proxy sees it at once. */
  keysChanged(id?: string): Promise<void>
  /** Called after a change to limits, for the spend engine. */
  limitsChanged(): Promise<void>
}

/** The base URL browsers use to reach the gateway, for links printed or shown once. */
export function publicBase(config: Config, request?: Request): string {
  if (config.admin.public_url) return config.admin.public_url.replace(/\/+$/, '')
  // With [server] tls_cert the port is https, though HTTP/1.1 reaches Bun.serve in clear text
  // behind the TLS front listener (src/net/front.ts), so request.url says http.
  const scheme = config.server.tls_cert ? 'https' : 'http'
  if (request) return `${scheme}://${new URL(request.url).host}`
  const { hostname, port } = parseListen(config.server.listen)
  const host = hostname === '0.0.0.0' ? '127.0.0.1' : hostname.includes(':') ? `[${hostname}]` : hostname
  return `${scheme}://${host}:${port}`
}

/** Whether cookies must be `Secure`: the browser reached us over TLS (directly or via a proxy). */
export function overTls(config: Config, request: Request): boolean {
  if (config.admin.public_url?.startsWith('https://')) return true
  if (config.server.tls_cert || request.url.startsWith('https://')) return true
  return request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim() === 'https'
}
