/**
 * The ID token checks, one by one, against an issuer the test controls (discovery, keys and a
 * token endpoint on loopback that answers whatever ID token the test signs): a good token
 * passes; an `azp` naming another client (with one `aud`), another audience, an expired
 * token, a wrong nonce, a foreign signature, an HS256 token and a discovery document naming
 * another issuer are refused.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose'
import { newPkce, OidcClient } from '../../src/admin/oidc'

let server: ReturnType<typeof Bun.serve>
let issuer: string
let key: CryptoKey
let foreign: CryptoKey
/** What the token endpoint answers next. */
let nextToken: () => Promise<string>
let advertisedIssuer: string | undefined
const SECRET = 'client-secret-for-the-test-issuer-000000001'

beforeAll(async () => {
  const pair = await generateKeyPair('RS256')
  key = pair.privateKey
  foreign = (await generateKeyPair('RS256')).privateKey
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }
  server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const path = new URL(req.url).pathname
      if (path === '/.well-known/openid-configuration') {
        return Response.json({
          issuer: advertisedIssuer ?? issuer,
          authorization_endpoint: `${issuer}/auth`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          token_endpoint_auth_methods_supported: ['client_secret_basic'],
        })
      }
      if (path === '/jwks') return Response.json({ keys: [jwk] })
      if (path === '/token' && req.method === 'POST') {
        const form = new URLSearchParams(await req.text())
        // RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64.
        const [id, secret] = atob((req.headers.get('authorization') ?? '').replace(/^Basic /, '')).split(':').map((x) => decodeURIComponent(x.replace(/\+/g, ' ')))
        if (!form.get('code_verifier') || id !== 'tollgate' || secret !== SECRET) return Response.json({ error: 'invalid_grant' }, { status: 400 })
        return Response.json({ access_token: 'at-0123456789', token_type: 'Bearer', expires_in: 60, id_token: await nextToken() })
      }
      return new Response('not found', { status: 404 })
    },
  })
  issuer = `http://127.0.0.1:${server.port}`
})

afterAll(() => server.stop(true))

const client = () => new OidcClient({ issuer, client_id: 'tollgate', client_secret: SECRET, redirect_url: 'http://127.0.0.1:9/admin/auth/callback' })

function sign(claims: JWTPayload, opts: { with?: CryptoKey; alg?: string } = {}) {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ iss: issuer, sub: 'user-1', aud: 'tollgate', iat: now, exp: now + 600, email: 'a@example.com', email_verified: true, ...claims })
    .setProtectedHeader({ alg: opts.alg ?? 'RS256', kid: 'k1' })
    .sign(opts.with ?? key)
}

async function signIn(token: () => Promise<string>, nonce?: string) {
  const pk = newPkce()
  nextToken = token
  return client().finish(new URLSearchParams({ code: 'code-1', state: pk.state }), { ...pk, nonce: nonce ?? pk.nonce })
}

test('a good token passes; PKCE, state and nonce go into the authorization URL', async () => {
  const pk = newPkce()
  const url = new URL(await client().authorizationUrl(pk))
  expect(url.origin + url.pathname).toBe(`${issuer}/auth`)
  expect(url.searchParams.get('code_challenge_method')).toBe('S256')
  expect(url.searchParams.get('state')).toBe(pk.state)
  expect(url.searchParams.get('nonce')).toBe(pk.nonce)
  expect(url.searchParams.get('scope')).toBe('openid email profile')
  nextToken = () => sign({ nonce: pk.nonce })
  const claims = await client().finish(new URLSearchParams({ code: 'c', state: pk.state }), pk)
  expect(claims.sub).toBe('user-1')
  expect(claims.email).toBe('a@example.com')
})

test('an azp naming another client is refused, though aud holds this client alone', async () => {
  const nonce = 'n-0123456789abcdef0123456789abcdef'
  await expect(signIn(() => sign({ nonce, azp: 'other-client' }), nonce)).rejects.toThrow(/azp is not this client/)
  // azp naming this client is fine.
  expect((await signIn(() => sign({ nonce, azp: 'tollgate' }), nonce)).sub).toBe('user-1')
})

test('another audience, an expired token, a wrong nonce, a foreign signature and HS256 are refused', async () => {
  const nonce = 'n-0123456789abcdef0123456789abcdef'
  await expect(signIn(() => sign({ nonce, aud: 'other-client' }), nonce)).rejects.toThrow(/aud claim check failed/)
  await expect(signIn(() => sign({ nonce, aud: ['tollgate', 'other-client'] }), nonce)).rejects.toThrow(/refused/)
  const past = Math.floor(Date.now() / 1000) - 7200
  await expect(signIn(() => sign({ nonce, iat: past, exp: past + 3600 }), nonce)).rejects.toThrow(/expired/)
  await expect(signIn(() => sign({ nonce: 'attacker-nonce' }), nonce)).rejects.toThrow(/nonce mismatch/)
  await expect(signIn(() => sign({ nonce }, { with: foreign }), nonce)).rejects.toThrow(/not a valid signed token/)
  const hmac = new TextEncoder().encode(SECRET)
  await expect(signIn(() => new SignJWT({ iss: issuer, sub: 'x', aud: 'tollgate', nonce, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60 }).setProtectedHeader({ alg: 'HS256' }).sign(hmac), nonce)).rejects.toThrow(/refused/)
})

test('a discovery document naming another issuer is refused', async () => {
  advertisedIssuer = 'https://evil.example'
  try {
    await expect(client().authorizationUrl(newPkce())).rejects.toThrow(/issuer/)
  } finally {
    advertisedIssuer = undefined
  }
})
