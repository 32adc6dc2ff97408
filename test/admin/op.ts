/**
 * A real OpenID Provider for tests: the `oidc-provider` package (OpenID Certified) on
 * loopback. Accounts are given by email; its login page is a one-field form (so a browser
 * test can type into it), and POSTing that form finishes login and consent at once.
 */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import Provider from 'oidc-provider'

export interface TestAccount {
  email: string
  email_verified?: boolean
  name?: string
  groups?: string[]
}

export interface TestOp {
  issuer: string
  clients: { id: string; secret: string }[]
  /** Accounts by email; add more at any time. */
  accounts: Map<string, TestAccount>
  stop(): Promise<void>
}

export async function startOp(redirectUris: string[], opts: { idTokenTtlSeconds?: number } = {}): Promise<TestOp> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const accounts = new Map<string, TestAccount>()
  const clients = [
    { id: 'tollgate', secret: 'op-client-secret-tollgate-000000000000000001' },
    { id: 'other-client', secret: 'op-client-secret-other-000000000000000000001' },
  ]
  const op = new Provider(issuer, {
    clients: clients.map((c) => ({ client_id: c.id, client_secret: c.secret, redirect_uris: redirectUris, grant_types: ['authorization_code'], response_types: ['code'] })),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    // Real IdPs put email in the ID token; so does this one.
    conformIdTokenClaims: false,
    ttl: { IdToken: opts.idTokenTtlSeconds ?? 3600, AccessToken: 600, Interaction: 600, Grant: 600, Session: 600 },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx: unknown, sub: string) {
      const a = accounts.get(sub)
      if (!a) return undefined
      return {
        accountId: sub,
        async claims() {
          return { sub, email: a.email, email_verified: a.email_verified ?? true, name: a.name, groups: a.groups }
        },
      }
    },
  })
  const callback = op.callback()
  server.on('request', async (req, res) => {
    const m = /^\/interaction\/([^/?]+)/.exec(req.url ?? '')
    if (!m) return callback(req, res)
    try {
      const details = await op.interactionDetails(req, res)
      if (req.method === 'GET') {
        res.setHeader('content-type', 'text/html; charset=utf-8')
        res.end(`<!doctype html><html><head><title>Test identity provider</title></head><body style="font-family:sans-serif;padding:40px">
<h1>Test identity provider</h1><form method="post" action="/interaction/${details.uid}"><label for="email">Email</label>
<input id="email" name="email" autofocus> <button type="submit">Sign in</button></form></body></html>`)
        return
      }
      const email = new URLSearchParams(await body(req)).get('email') ?? ''
      if (!accounts.has(email)) {
        res.statusCode = 400
        res.end('unknown account')
        return
      }
      const grant = new op.Grant({ accountId: email, clientId: String(details.params.client_id) })
      grant.addOIDCScope(String(details.params.scope))
      const grantId = await grant.save()
      await op.interactionFinished(req, res, { login: { accountId: email }, consent: { grantId } }, { mergeWithLastSubmission: false })
    } catch (e) {
      res.statusCode = 500
      res.end(String((e as Error).message))
    }
  })
  return {
    issuer,
    clients,
    accounts,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  }
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = ''
    req.on('data', (c) => (s += c))
    req.on('end', () => resolve(s))
    req.on('error', reject)
  })
}

/**
 * A browser without a screen: follows redirects by hand and keeps cookies per host, as a
 * browser does (cookies ignore ports, so the OP and the gateway on 127.0.0.1 share a jar).
 */
export class CookieClient {
  readonly jar = new Map<string, Map<string, string>>()

  cookieHeader(url: string): string {
    const host = new URL(url).hostname
    return [...(this.jar.get(host) ?? new Map())].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    const c = this.cookieHeader(url)
    if (c) headers.set('cookie', c)
    const res = await fetch(url, { ...init, headers, redirect: 'manual' })
    const host = new URL(url).hostname
    const jar = this.jar.get(host) ?? new Map<string, string>()
    this.jar.set(host, jar)
    for (const sc of res.headers.getSetCookie()) {
      const [pair, ...attrs] = sc.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq).trim()
      const value = pair!.slice(eq + 1).trim()
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || attrs.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]!) < Date.now())
      if (expired || value === '') jar.delete(name)
      else jar.set(name, value)
    }
    return res
  }

  /** Follows redirects until a non-redirect answer, optionally rewriting each hop's URL. */
  async follow(url: string, rewrite: (u: string) => string = (u) => u, limit = 20): Promise<{ res: Response; url: string; hops: string[] }> {
    const hops: string[] = []
    let current = rewrite(url)
    for (let i = 0; i < limit; i++) {
      hops.push(current)
      const res = await this.fetch(current)
      const loc = res.headers.get('location')
      if (res.status < 300 || res.status >= 400 || !loc) return { res, url: current, hops }
      await res.body?.cancel()
      current = rewrite(new URL(loc, current).toString())
    }
    throw new Error(`too many redirects: ${hops.join(' → ')}`)
  }

  /** Submits the test OP's login form as `email`, then follows redirects back to the gateway. */
  async signInAt(interactionUrl: string, email: string, rewrite?: (u: string) => string) {
    const res = await this.fetch(interactionUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ email }) })
    const loc = res.headers.get('location')
    await res.body?.cancel()
    if (!loc) throw new Error(`the OP did not redirect after login: ${res.status}`)
    return this.follow(new URL(loc, interactionUrl).toString(), rewrite)
  }
}
