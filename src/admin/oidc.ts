/**
 * OpenID Connect relying party: authorization-code flow with PKCE (S256), `state` and
 * `nonce`. The ID token is verified with jose against the issuer's JWKS: signature
 * (asymmetric algorithms only), `iss`, `aud` (and `azp` when several audiences), `exp`, `iat`
 * and `nonce`. The identity is the verified (iss, sub).
 */
import { createHash } from 'node:crypto'
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose'
import type { OidcConfig } from '../config/schema'
import { randomToken } from './crypto'

interface Discovery {
  issuer: string
  authorization_endpoint: string
  token_endpoint: string
  jwks_uri: string
  token_endpoint_auth_methods_supported?: string[]
}

export class OidcError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/** Asymmetric only: an HS256 token would be signed with our own client secret. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']

export interface IdClaims extends JWTPayload {
  iss: string
  sub: string
  email?: string
  email_verified?: boolean
  name?: string
}

export interface PkcePair {
  state: string
  nonce: string
  verifier: string
}

export function newPkce(): PkcePair {
  return { state: randomToken(32), nonce: randomToken(32), verifier: randomToken(48) }
}

export class OidcClient {
  private meta: Promise<Discovery> | undefined
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined

  constructor(
    readonly cfg: OidcConfig,
    private readonly now: () => number = Date.now,
  ) {}

  discovery(): Promise<Discovery> {
    this.meta ??= (async () => {
      const url = `${this.cfg.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) })
      if (!res.ok) throw new OidcError('discovery_failed', `The identity provider's discovery document answered HTTP ${res.status}.`)
      const d = (await res.json()) as Discovery
      // The discovery document must name the issuer we were configured with (OIDC Discovery §4.3).
      if (d.issuer !== this.cfg.issuer) throw new OidcError('discovery_failed', `The identity provider says its issuer is "${d.issuer}", not "${this.cfg.issuer}".`)
      return d
    })().catch((e) => {
      this.meta = undefined
      throw e instanceof OidcError ? e : new OidcError('discovery_failed', 'The identity provider could not be reached.')
    })
    return this.meta
  }

  async authorizationUrl(p: PkcePair): Promise<string> {
    const d = await this.discovery()
    const u = new URL(d.authorization_endpoint)
    const scopes = this.cfg.scopes ?? ['openid', 'email', 'profile']
    u.searchParams.set('response_type', 'code')
    u.searchParams.set('client_id', this.cfg.client_id)
    u.searchParams.set('redirect_uri', this.cfg.redirect_url)
    u.searchParams.set('scope', scopes.includes('openid') ? scopes.join(' ') : ['openid', ...scopes].join(' '))
    u.searchParams.set('state', p.state)
    u.searchParams.set('nonce', p.nonce)
    u.searchParams.set('code_challenge', createHash('sha256').update(p.verifier).digest('base64url'))
    u.searchParams.set('code_challenge_method', 'S256')
    return u.toString()
  }

  /** Trades the code for tokens at the token endpoint; returns the raw ID token. */
  async exchange(code: string, verifier: string): Promise<string> {
    const d = await this.discovery()
    const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: this.cfg.redirect_url, code_verifier: verifier })
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }
    const methods = d.token_endpoint_auth_methods_supported ?? ['client_secret_basic']
    if (this.cfg.client_secret && methods.includes('client_secret_basic')) {
      const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+')
      headers.authorization = `Basic ${Buffer.from(`${enc(this.cfg.client_id)}:${enc(this.cfg.client_secret)}`).toString('base64')}`
    } else {
      form.set('client_id', this.cfg.client_id)
      if (this.cfg.client_secret) form.set('client_secret', this.cfg.client_secret)
    }
    let res: Response
    try {
      res = await fetch(d.token_endpoint, { method: 'POST', headers, body: form, signal: AbortSignal.timeout(10_000), redirect: 'manual' })
    } catch {
      throw new OidcError('token_exchange_failed', 'The identity provider could not be reached.')
    }
    const body = (await res.json().catch(() => ({}))) as { id_token?: unknown; error?: unknown }
    if (!res.ok || typeof body.id_token !== 'string') {
      throw new OidcError('token_exchange_failed', `The identity provider refused the sign-in code (${typeof body.error === 'string' ? body.error.slice(0, 60) : `HTTP ${res.status}`}).`)
    }
    return body.id_token
  }

  async verifyIdToken(idToken: string, nonce: string): Promise<IdClaims> {
    const d = await this.discovery()
    this.jwks ??= createRemoteJWKSet(new URL(d.jwks_uri))
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(idToken, this.jwks, {
        issuer: this.cfg.issuer,
        audience: this.cfg.client_id,
        algorithms: ALGORITHMS,
        currentDate: new Date(this.now()),
        clockTolerance: 30,
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
      }))
    } catch (e) {
      const x = e as { code?: string; claim?: string }
      const why =
        x.code === 'ERR_JWT_EXPIRED'
          ? 'expired'
          : x.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED'
            ? `${x.claim} claim check failed`
            : x.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'
              ? 'signature check failed'
              : 'not a valid signed token'
      throw new OidcError('id_token_invalid', `The ID token was refused (${why}).`)
    }
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== this.cfg.client_id) {
      throw new OidcError('id_token_invalid', 'The ID token was refused (azp is not this client).')
    }
    if (typeof payload.nonce !== 'string' || payload.nonce.length !== nonce.length || payload.nonce !== nonce) {
      throw new OidcError('id_token_invalid', 'The ID token was refused (nonce mismatch).')
    }
    return payload as IdClaims
  }
}

/**
 * The claims' email as an address, lower-cased, only when the provider says it is verified:
 * exactly one `@`, a local part of ordinary characters, a dotted domain of DNS labels.
 * `a@evil.com@example.com`, an unverified address and a missing one all give undefined.
 */
export function verifiedEmail(claims: IdClaims): string | undefined {
  if (claims.email_verified !== true || typeof claims.email !== 'string') return undefined
  const email = claims.email.trim().toLowerCase()
  if (email.length > 320) return undefined
  const parts = email.split('@')
  if (parts.length !== 2) return undefined
  const [local, domain] = parts as [string, string]
  if (!/^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/.test(local) || local.length > 64) return undefined
  if (!/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(domain)) return undefined
  return email
}

/**
 * The client for a (re)loaded `[auth.oidc]`: the same one when nothing changed (its discovery
 * and keys stay cached), a new one when anything did, none when the section is gone. Every
 * setting applies from the next sign-in; none needs a restart.
 */
export function oidcClientFor(current: OidcClient | undefined, cfg: OidcConfig | undefined): OidcClient | undefined {
  if (!cfg) return undefined
  if (current && JSON.stringify(current.cfg) === JSON.stringify(cfg)) return current
  return new OidcClient(cfg)
}

/** Email-domain gate from `allowed_domains` (empty = any verified email); the email must be verified either way. */
export function domainAllowed(cfg: OidcConfig, email: string): boolean {
  const domains = (cfg.allowed_domains ?? []).map((d) => d.toLowerCase().replace(/^@/, ''))
  if (!domains.length) return true
  return domains.includes(email.slice(email.indexOf('@') + 1))
}

/** Whether the claims make an org admin: a listed (verified) email or a listed group. */
export function claimsGrantAdmin(cfg: OidcConfig, claims: IdClaims): boolean {
  const email = verifiedEmail(claims)
  if (email && (cfg.admin_emails ?? []).some((e) => e.trim().toLowerCase() === email)) return true
  if (cfg.groups_claim && cfg.admin_groups?.length) {
    const g = claims[cfg.groups_claim]
    const groups = Array.isArray(g) ? g.map(String) : typeof g === 'string' ? [g] : []
    return groups.some((x) => cfg.admin_groups!.includes(x))
  }
  return false
}
