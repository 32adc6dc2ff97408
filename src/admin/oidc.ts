/**
 * OpenID Connect relying party on `openid-client` (a maintained, certified library):
 * discovery, the authorization-code flow with PKCE (S256), `state` and `nonce`, the code
 * exchange and the ID token checks (signature with the issuer's keys, asymmetric algorithms
 * only, `iss`, `aud`, `exp`, `iat`, `nonce`, and `azp` with several audiences). On top of the
 * library: an `azp` naming another client is refused whatever `aud` holds. The identity is
 * the verified (iss, sub).
 */
import * as oidc from 'openid-client'
import type { OidcConfig } from '../config/schema'

export class OidcError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export interface IdClaims {
  iss: string
  sub: string
  aud: string | string[]
  azp?: string
  email?: string
  email_verified?: boolean
  name?: string
  [claim: string]: unknown
}

export interface PkcePair {
  state: string
  nonce: string
  verifier: string
}

export function newPkce(): PkcePair {
  return { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier() }
}

const TIMEOUT_SECONDS = 10

/** Plain HTTP only to an issuer on this machine (a test or local identity provider). */
function loopbackHttp(issuer: string): boolean {
  const u = new URL(issuer)
  return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)
}

export class OidcClient {
  private config: Promise<oidc.Configuration> | undefined

  constructor(readonly cfg: OidcConfig) {}

  /** The issuer's metadata, fetched once (again after a failure); its `issuer` must be the configured one. */
  discovery(): Promise<oidc.Configuration> {
    this.config ??= (async () => {
      const auth = this.cfg.client_secret ? undefined : oidc.None()
      const metadata = { client_id: this.cfg.client_id, client_secret: this.cfg.client_secret, redirect_uris: [this.cfg.redirect_url] }
      let c = await oidc.discovery(new URL(this.cfg.issuer), this.cfg.client_id, metadata, auth, {
        execute: loopbackHttp(this.cfg.issuer) ? [oidc.allowInsecureRequests] : [],
        timeout: TIMEOUT_SECONDS,
      })
      // The secret goes in Basic auth where the issuer supports it (the library defaults to the form body).
      if (this.cfg.client_secret) {
        const methods = c.serverMetadata().token_endpoint_auth_methods_supported ?? ['client_secret_basic']
        const clientAuth = methods.includes('client_secret_basic') ? oidc.ClientSecretBasic(this.cfg.client_secret) : oidc.ClientSecretPost(this.cfg.client_secret)
        c = new oidc.Configuration(c.serverMetadata(), this.cfg.client_id, metadata, clientAuth)
        if (loopbackHttp(this.cfg.issuer)) oidc.allowInsecureRequests(c)
        c.timeout = TIMEOUT_SECONDS
      }
      // The library trusts TLS for a token-endpoint ID token by default; verify its signature too.
      oidc.enableNonRepudiationChecks(c)
      return c
    })().catch((e) => {
      this.config = undefined
      throw new OidcError('discovery_failed', discoveryProblem(e, this.cfg.issuer))
    })
    return this.config
  }

  async authorizationUrl(p: PkcePair): Promise<string> {
    const c = await this.discovery()
    const scopes = this.cfg.scopes ?? ['openid', 'email', 'profile']
    return oidc
      .buildAuthorizationUrl(c, {
        redirect_uri: this.cfg.redirect_url,
        scope: (scopes.includes('openid') ? scopes : ['openid', ...scopes]).join(' '),
        state: p.state,
        nonce: p.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(p.verifier),
        code_challenge_method: 'S256',
      })
      .toString()
  }

  /**
   * Finishes the flow from the callback's query: checks the response (`state`, `iss`), trades
   * the code with the PKCE verifier, verifies the ID token (nonce included) and returns its claims.
   */
  async finish(callbackQuery: URLSearchParams, p: PkcePair): Promise<IdClaims> {
    const c = await this.discovery()
    // The library derives redirect_uri from this URL: the configured one, whatever Host the proxy sent.
    const current = new URL(this.cfg.redirect_url)
    for (const [k, v] of callbackQuery) current.searchParams.append(k, v)
    let claims: IdClaims
    try {
      const tokens = await oidc.authorizationCodeGrant(c, current, { pkceCodeVerifier: p.verifier, expectedState: p.state, expectedNonce: p.nonce, idTokenExpected: true })
      claims = tokens.claims() as unknown as IdClaims
    } catch (e) {
      throw refusal(e)
    }
    if (claims.azp !== undefined && claims.azp !== this.cfg.client_id) throw new OidcError('id_token_invalid', 'The ID token was refused (azp is not this client).')
    return claims
  }
}

function discoveryProblem(e: unknown, issuer: string): string {
  const x = e as { code?: string; message?: string; cause?: { status?: number } }
  if (x.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') return `The identity provider's discovery document does not name "${issuer}" as its issuer.`
  if (x.code === 'OAUTH_HTTP_REQUEST_FORBIDDEN') return `The issuer "${issuer}" must use https.`
  if (x.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' && x.cause?.status) return `The identity provider's discovery document answered HTTP ${x.cause.status}.`
  return 'The identity provider could not be reached.'
}

/** A short, safe reason for a refused callback (no token, no secret). */
function refusal(e: unknown): OidcError {
  const x = e as { code?: string; error?: string }
  // openid-client wraps oauth4webapi's error, whose own cause names the claim.
  let claim: string | undefined
  for (let c = e as { cause?: unknown; claim?: unknown } | undefined, i = 0; c && i < 4 && !claim; c = c.cause as typeof c, i++) if (typeof c.claim === 'string') claim = c.claim
  if (x.code === 'OAUTH_RESPONSE_BODY_ERROR') return new OidcError('token_exchange_failed', `The identity provider refused the sign-in code (${String(x.error ?? 'error').slice(0, 60)}).`)
  if (x.code === 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED') return new OidcError('id_token_invalid', `The ID token was refused (${claim === 'exp' ? 'expired' : `${claim ?? 'timestamp'} claim check failed`}).`)
  if (x.code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED') return new OidcError('id_token_invalid', `The ID token was refused (${claim === 'nonce' ? 'nonce mismatch' : `${claim ?? 'a'} claim check failed`}).`)
  if (x.code === 'OAUTH_INVALID_RESPONSE' || x.code === 'OAUTH_KEY_SELECTION_FAILED' || x.code === 'OAUTH_UNSUPPORTED_OPERATION') return new OidcError('id_token_invalid', 'The ID token was refused (not a valid signed token).')
  if (x.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' || x.code === 'OAUTH_INVALID_REQUEST') return new OidcError('id_token_invalid', 'The sign-in response was refused (state or issuer check failed).')
  return new OidcError('token_exchange_failed', 'The identity provider could not be reached, or its answer was not understood.')
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
