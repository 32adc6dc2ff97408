/**
 * A local stand-in for Google's OAuth token endpoint (JWT bearer grant, RFC 7523). It makes a fresh
 * service-account key pair at start (no private key is ever committed), verifies the RS256 JWT the
 * gateway signs (signature against the account's public key, iss, aud, scope, iat/exp) and issues
 * access tokens with an expiry. Tests read what it issued and can hold its answers back.
 */
import { exportPKCS8, generateKeyPair, jwtVerify, type CryptoKey } from 'jose'

export const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform'

export interface ServiceAccountJson {
  type: 'service_account'
  project_id: string
  private_key_id: string
  private_key: string
  client_email: string
  client_id: string
  token_uri: string
}

export interface OAuthServer {
  url: string
  /** The token endpoint, for `token_url` in the gateway's config. */
  tokenUrl: string
  account: ServiceAccountJson
  /** The account as the single-line JSON a `${VAR}` would carry. */
  accountJson: string
  /** Every access token issued, in order. */
  issued: string[]
  /** Token requests received, valid or not. */
  requests: number
  /** Why requests were refused, in order. */
  refused: string[]
  /** `expires_in` (seconds) of the next tokens. */
  expiresIn: number
  /** Holds every answer until the returned function is called. */
  hold(): () => void
  stop(): void
}

export async function startOAuthServer(opts: { project?: string; expiresIn?: number } = {}): Promise<OAuthServer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 })
  const keyId = crypto.randomUUID().replaceAll('-', '')
  let gate: Promise<void> | undefined
  let serial = 0
  const state = { requests: 0 }
  const issued: string[] = []
  const refused: string[] = []

  const refuse = (reason: string, status = 400) => {
    refused.push(reason)
    return Response.json({ error: 'invalid_grant', error_description: reason }, { status })
  }

  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const u = new URL(req.url)
      if (req.method !== 'POST' || u.pathname !== '/token') return new Response('not found', { status: 404 })
      state.requests++
      if (gate) await gate
      const form = new URLSearchParams(await req.text())
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return refuse('unsupported grant_type')
      const reason = await verifyAssertion(form.get('assertion') ?? '', publicKey, api.account, keyId, api.tokenUrl)
      if (reason) return refuse(reason)
      const token = `ya29.test-${++serial}-${crypto.randomUUID()}`
      issued.push(token)
      return Response.json({ access_token: token, expires_in: api.expiresIn, token_type: 'Bearer' })
    },
  })

  const url = `http://127.0.0.1:${server.port}`
  const account: ServiceAccountJson = {
    type: 'service_account',
    project_id: opts.project ?? 'tollgate-test-project',
    private_key_id: keyId,
    private_key: await exportPKCS8(privateKey),
    client_email: 'tollgate-test@tollgate-test-project.iam.gserviceaccount.com',
    client_id: '100000000000000000001',
    token_uri: `${url}/token`,
  }
  const api: OAuthServer = {
    url,
    tokenUrl: `${url}/token`,
    account,
    accountJson: JSON.stringify(account),
    issued,
    get requests() {
      return state.requests
    },
    refused,
    expiresIn: opts.expiresIn ?? 3600,
    hold() {
      let release!: () => void
      gate = new Promise<void>((r) => (release = r))
      return () => {
        gate = undefined
        release()
      }
    },
    stop: () => void server.stop(true),
  }
  return api
}

/** Why an assertion is refused, or undefined when it is good. */
async function verifyAssertion(jwt: string, key: CryptoKey, account: ServiceAccountJson, keyId: string, audience: string): Promise<string | undefined> {
  try {
    const { payload, protectedHeader } = await jwtVerify(jwt, key, {
      algorithms: ['RS256'],
      issuer: account.client_email,
      audience,
      requiredClaims: ['iat', 'exp', 'scope'],
    })
    if (protectedHeader.kid !== undefined && protectedHeader.kid !== keyId) return 'unknown key id'
    const scopes = String(payload.scope).split(' ')
    if (!scopes.includes(CLOUD_PLATFORM)) return `scope lacks ${CLOUD_PLATFORM}`
    // Google refuses assertions valid for more than an hour.
    if (payload.exp! - payload.iat! > 3600) return 'assertion lifetime over 3600 s'
    return undefined
  } catch (e) {
    return `bad assertion: ${(e as Error).message}`
  }
}
