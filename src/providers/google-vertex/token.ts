/**
 * OAuth access tokens for a service account (RFC 7523 JWT bearer grant): an RS256 JWT signed with
 * jose is exchanged at the token endpoint. A token is cached until shortly before it expires; one
 * refresh serves every request waiting at that moment; a token about to expire is refreshed in the
 * background while requests keep using it.
 */
import { SignJWT, importPKCS8 } from 'jose'
import { UpstreamError } from '../../errors'
import type { ServiceAccount } from './credentials'

export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token'
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform'

/** Refresh in the background once a token has less than this left (as google-auth-library does). */
export const EAGER_REFRESH_MS = 5 * 60_000
/** Below this, a token is not used at all: requests wait for the refresh. */
export const MIN_VALIDITY_MS = 60_000
const ASSERTION_LIFETIME_S = 3600
const TOKEN_FETCH_TIMEOUT_MS = 15_000

export interface TokenSourceOptions {
  /** Clock for cache decisions (tests move it); JWT timestamps always use the real clock. */
  now?: () => number
  /** What to call the provider in errors. */
  label?: string
}

interface CachedToken {
  value: string
  expiresAt: number
}

export class AccessTokenSource {
  private token: CachedToken | undefined
  private inflight: Promise<string> | undefined
  private key: ReturnType<typeof importPKCS8> | undefined
  private readonly now: () => number
  /** Token requests made so far (for tests and diagnostics). */
  fetches = 0

  constructor(
    private readonly account: ServiceAccount,
    readonly tokenUrl: string,
    private readonly opts: TokenSourceOptions = {},
  ) {
    this.now = opts.now ?? Date.now
  }

  /** A usable access token: cached, or the one refresh in flight, or a new one. */
  get(): Promise<string> {
    const t = this.token
    const left = t ? t.expiresAt - this.now() : 0
    if (t && left > EAGER_REFRESH_MS) return Promise.resolve(t.value)
    if (t && left > MIN_VALIDITY_MS) {
      // Still good for a while: serve it and refresh on the side; a failure there is retried later.
      this.refresh().catch(() => {})
      return Promise.resolve(t.value)
    }
    return this.refresh()
  }

  private refresh(): Promise<string> {
    this.inflight ??= this.fetchToken().finally(() => {
      this.inflight = undefined
    })
    return this.inflight
  }

  private async fetchToken(): Promise<string> {
    this.fetches++
    const who = this.opts.label ? `Provider "${this.opts.label}"` : 'The gateway'
    let res: Response
    try {
      const assertion = await this.assertion()
      res = await fetch(this.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
        signal: AbortSignal.timeout(TOKEN_FETCH_TIMEOUT_MS),
      })
    } catch {
      throw new UpstreamError(`${who} could not reach Google's token endpoint for an access token.`, 'upstream_auth_failed')
    }
    const body = (await res.json().catch(() => undefined)) as { access_token?: unknown; expires_in?: unknown } | undefined
    if (!res.ok || typeof body?.access_token !== 'string' || !body.access_token) {
      throw new UpstreamError(`${who} could not obtain a Google access token (token endpoint answered ${res.status}).`, 'upstream_auth_failed')
    }
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : ASSERTION_LIFETIME_S
    this.token = { value: body.access_token, expiresAt: this.now() + expiresIn * 1000 }
    return body.access_token
  }

  private async assertion(): Promise<string> {
    this.key ??= importPKCS8(this.account.private_key, 'RS256').catch((e) => {
      this.key = undefined
      throw e
    })
    const key = await this.key
    const iat = Math.floor(Date.now() / 1000)
    return new SignJWT({ scope: CLOUD_PLATFORM_SCOPE })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(this.account.private_key_id ? { kid: this.account.private_key_id } : {}) })
      .setIssuer(this.account.client_email)
      .setSubject(this.account.client_email)
      .setAudience(this.tokenUrl)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ASSERTION_LIFETIME_S)
      .sign(key)
  }
}
