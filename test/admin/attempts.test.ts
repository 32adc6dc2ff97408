/**
 * Failed sign-ins are limited per client address, over real sockets from several loopback
 * addresses (127.0.0.2, .3, …): bad admin tokens, bad setup and invitation links and failed
 * OIDC callbacks count; past the limit the address gets 429 with retry-after before anything
 * is looked up; other addresses are unaffected; X-Forwarded-For counts only from a trusted proxy.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/load'
import { createGateway, type Gateway } from '../../src/gateway'
import { createAdminToken } from '../../src/admin/tokens'
import { FailedAttempts } from '../../src/admin/attempts'
import { clientAddress, limitKey, NO_PEER, TrustedProxies } from '../../src/admin/client-address'
import { SECRET_KEY } from './fixture'

const LIMIT = 3
const PROXY = '127.0.0.50'

interface Answer {
  status: number
  headers: Record<string, string>
  body: string
}

/** One HTTP/1.1 request over a socket bound to `from`, so the gateway sees that peer address. */
function send(port: number, from: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const method = body === undefined ? 'GET' : 'POST'
    const all = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }
    const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...Object.entries(all).map(([k, v]) => `${k}: ${v}`)]
    const c = connect({ host: '127.0.0.1', port, localAddress: from }, () => c.write(`${lines.join('\r\n')}\r\n\r\n${body ?? ''}`))
    let raw = ''
    c.setEncoding('utf8')
    c.on('data', (d) => (raw += d))
    c.on('error', reject)
    c.on('end', () => {
      const [head = '', ...rest] = raw.split('\r\n\r\n')
      const [statusLine = '', ...hl] = head.split('\r\n')
      const h: Record<string, string> = {}
      for (const l of hl) {
        const i = l.indexOf(':')
        h[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim()
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers: h, body: rest.join('\r\n\r\n') })
    })
  })
}

let gw: Gateway
let port: number
let dir: string
let goodToken: string
/** Admin-token look-ups (each is a database query). */
let lookups = 0

const BAD = 'tga_aaaaaaaaaaaa_' + 'A'.repeat(43)
const bearer = (t: string) => ({ authorization: `Bearer ${t}` })
const session = '/admin/api/v1/session'

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tollgate-attempts-'))
  const toml = `
[secrets]
key = "${SECRET_KEY}"

[server]
trusted_proxies = ["${PROXY}/32", "fd00::/8"]

[admin]
max_failed_attempts = ${LIMIT}
failed_attempts_window_seconds = 600

[database]
url = "file:${join(dir, 'attempts.db')}"
`
  const log = console.log
  console.log = () => {}
  gw = await createGateway(await parseConfig(toml, 'test.toml', {}))
  console.log = log
  goodToken = (await createAdminToken(gw.database.db, { role: 'org_admin', name: 'attempts' })).secret
  // Count every query the admin API makes for a credential.
  const ctx = gw.admin!.ctx
  const db = ctx.db
  ctx.db = new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'select') lookups++
      return Reflect.get(target, prop, receiver)
    },
  })
  gw.app.listen({ hostname: '127.0.0.1', port: 0, reusePort: false })
  port = gw.app.server!.port!
})

afterAll(async () => {
  await gw.app.stop(true)
  await gw.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('admin tokens', () => {
  test('past the limit an address gets 429 with retry-after, and its tokens are not looked up', async () => {
    const from = '127.0.0.2'
    for (let i = 0; i < LIMIT; i++) {
      const l = lookups
      expect((await send(port, from, session, bearer(BAD))).status).toBe(401)
      // The probe sees look-ups: each bad token below the limit is one.
      expect(lookups).toBe(l + 1)
    }
    const before = lookups
    for (const t of [BAD, goodToken]) {
      const r = await send(port, from, session, bearer(t))
      expect(r.status).toBe(429)
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(500)
      expect(JSON.parse(r.body)).toEqual({ error: { code: 'too_many_attempts', message: expect.stringContaining('Too many failed sign-in attempts') } })
      expect(r.headers['cache-control']).toBe('no-store')
    }
    expect(lookups).toBe(before)
  })

  test('another address still works, and a success does not count', async () => {
    const from = '127.0.0.3'
    for (let i = 0; i < LIMIT + 2; i++) expect((await send(port, from, session, bearer(goodToken))).status).toBe(200)
    expect((await send(port, from, session, bearer(BAD))).status).toBe(401)
  })

  test('a session cookie that is not valid counts as a failure too', async () => {
    const from = '127.0.0.4'
    for (let i = 0; i < LIMIT; i++) expect((await send(port, from, session, { cookie: 'tollgate_session=tgss_nope' })).status).toBe(401)
    expect((await send(port, from, session, bearer(goodToken))).status).toBe(429)
  })

  test('X-Forwarded-For from a peer that is not a trusted proxy changes nothing', async () => {
    const from = '127.0.0.5'
    for (let i = 0; i < LIMIT; i++) {
      expect((await send(port, from, session, { ...bearer(BAD), 'x-forwarded-for': `198.51.100.${i}` })).status).toBe(401)
    }
    expect((await send(port, from, session, { ...bearer(goodToken), 'x-forwarded-for': '198.51.100.99' })).status).toBe(429)
    // And the blocked address cannot hide behind a claimed one either.
    expect((await send(port, '127.0.0.2', session, { ...bearer(goodToken), 'x-forwarded-for': '203.0.113.1' })).status).toBe(429)
  })

  test('through a trusted proxy the client is the rightmost untrusted X-Forwarded-For hop', async () => {
    const client = '203.0.113.7'
    for (let i = 0; i < LIMIT; i++) {
      // Whatever the client wrote to the left of what the proxy appended is not believed.
      expect((await send(port, PROXY, session, { ...bearer(BAD), 'x-forwarded-for': `10.9.9.${i}, ${client}` })).status).toBe(401)
    }
    expect((await send(port, PROXY, session, { ...bearer(goodToken), 'x-forwarded-for': client })).status).toBe(429)
    // Another client behind the same proxy, and the proxy's own requests, are not affected.
    expect((await send(port, PROXY, session, { ...bearer(goodToken), 'x-forwarded-for': '203.0.113.8' })).status).toBe(200)
    expect((await send(port, PROXY, session, bearer(goodToken))).status).toBe(200)
  })
})

describe('sign-in pages', () => {
  test('unknown setup and invitation links count; past the limit a 429 page, before any look-up', async () => {
    const from = '127.0.0.6'
    expect((await send(port, from, '/admin/setup?token=tgs_' + 'x'.repeat(43))).status).toBe(410)
    expect((await send(port, from, '/admin/invite?token=tgi_' + 'x'.repeat(43))).status).toBe(410)
    expect((await send(port, from, '/admin/setup', { 'content-type': 'application/x-www-form-urlencoded' }, `token=tgs_${'z'.repeat(43)}&user=admin`)).status).toBe(410)
    const before = lookups
    const r = await send(port, from, '/admin/setup?token=tgs_' + 'y'.repeat(43))
    expect(r.status).toBe(429)
    expect(r.headers['content-type']).toContain('text/html')
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0)
    expect((await send(port, from, session, bearer(goodToken))).status).toBe(429)
    expect(lookups).toBe(before)
    // The static UI is not a sign-in attempt and still loads.
    expect((await send(port, from, '/admin/')).status).toBe(200)
  })
})

test('failed OIDC callbacks count', async () => {
  const d = mkdtempSync(join(tmpdir(), 'tollgate-attempts-oidc-'))
  // The issuer is a closed loopback port: the callbacks below fail before any discovery.
  const toml = `
[admin]
max_failed_attempts = 2

[auth.oidc]
issuer = "http://127.0.0.1:9"
client_id = "tollgate"
client_secret = "s"
redirect_url = "http://127.0.0.1/admin/auth/callback"

[database]
url = "file:${join(d, 'oidc.db')}"
`
  const log = console.log
  console.log = () => {}
  const g = await createGateway(await parseConfig(toml, 'test.toml', {}))
  console.log = log
  try {
    g.app.listen({ hostname: '127.0.0.1', port: 0, reusePort: false })
    const p = g.app.server!.port!
    const cb = '/admin/auth/callback?code=c&state=s'
    expect((await send(p, '127.0.0.7', cb, { cookie: 'tollgate_oidc_state=other' })).status).toBe(400)
    expect((await send(p, '127.0.0.7', cb)).status).toBe(400)
    const r = await send(p, '127.0.0.7', cb, { cookie: 'tollgate_oidc_state=s' })
    expect(r.status).toBe(429)
    expect(r.headers['retry-after']).toBeDefined()
    expect((await send(p, '127.0.0.7', '/admin/auth/login')).status).toBe(429)
    expect((await send(p, '127.0.0.8', cb)).status).toBe(400)
    await g.app.stop(true)
  } finally {
    await g.close()
    rmSync(d, { recursive: true, force: true })
  }
})

describe('units', () => {
  const peer = (address: string) => ({ requestIP: () => ({ address }) })
  const req = (xff?: string) => new Request('http://127.0.0.1/admin/', { headers: xff ? { 'x-forwarded-for': xff } : {} })

  test('client address: the peer, or the rightmost untrusted hop behind trusted proxies', () => {
    const t = new TrustedProxies(['10.0.0.0/8', 'fd00::/8', '192.0.2.1'])
    expect(clientAddress(req('1.2.3.4'), peer('198.51.100.1'), t)).toBe('198.51.100.1')
    expect(clientAddress(req('1.2.3.4, 5.6.7.8'), peer('10.1.1.1'), t)).toBe('5.6.7.8')
    expect(clientAddress(req('1.2.3.4, 5.6.7.8, 10.2.2.2'), peer('10.1.1.1'), t)).toBe('5.6.7.8')
    expect(clientAddress(req('2001:db8::1, fd12::3'), peer('fd00::1'), t)).toBe('2001:db8::1')
    expect(clientAddress(req(), peer('10.1.1.1'), t)).toBe('10.1.1.1')
    // Garbage left of the trusted hops: the last proper hop stands.
    expect(clientAddress(req('not-an-ip, 10.3.3.3'), peer('10.1.1.1'), t)).toBe('10.3.3.3')
    expect(clientAddress(req('1.2.3.4'), peer('::ffff:192.0.2.1'), t)).toBe('1.2.3.4')
    expect(clientAddress(req('1.2.3.4'), null, t)).toBe(NO_PEER)
    expect(clientAddress(req('1.2.3.4'), peer('10.1.1.1'), new TrustedProxies([]))).toBe('10.1.1.1')
  })

  test('IPv6 addresses count per /64', () => {
    expect(limitKey('2001:db8:1:2:aaaa::1')).toBe(limitKey('2001:db8:1:2:bbbb::2'))
    expect(limitKey('2001:db8:1:2::1')).not.toBe(limitKey('2001:db8:1:3::1'))
    expect(limitKey('192.0.2.1')).toBe('192.0.2.1')
  })

  test('the window ends, and then the address may try again', () => {
    let now = 1_000_000
    const a = new FailedAttempts(2, 60_000, () => now)
    a.fail('x')
    a.fail('x')
    expect(a.retryAfter('x')).toBe(60)
    now += 30_000
    expect(a.retryAfter('x')).toBe(30)
    now += 30_000
    expect(a.retryAfter('x')).toBeUndefined()
    a.fail('x')
    expect(a.retryAfter('x')).toBeUndefined()
  })

  test('config: trusted_proxies entries must be addresses or CIDR ranges', async () => {
    const bad = await parseConfig('[server]\ntrusted_proxies = ["10.0.0.0/33", "proxy.internal", "::1/129"]\n', 'c.toml', {}).catch((e) => e)
    const msgs = (bad.problems as { path: string; message: string }[]).map((p) => `${p.path}: ${p.message}`)
    expect(msgs).toEqual([
      'server.trusted_proxies[0]: "10.0.0.0/33" has a bad prefix length',
      'server.trusted_proxies[1]: "proxy.internal" is not an IP address or CIDR range',
      'server.trusted_proxies[2]: "::1/129" has a bad prefix length',
    ])
    const ok = await parseConfig('[server]\ntrusted_proxies = ["10.0.0.0/8", "::1", "192.0.2.1"]\n', 'c.toml', {})
    expect(ok.config.server.trusted_proxies).toEqual(['10.0.0.0/8', '::1', '192.0.2.1'])
    expect((await parseConfig('', 'c.toml', {})).config.admin.max_failed_attempts).toBe(20)
  })
})

test('SIGHUP applies trusted_proxies and the attempt limits, keeping the counts', async () => {
  const d = mkdtempSync(join(tmpdir(), 'tollgate-attempts-reload-'))
  const toml = (extra: string) => `[database]\nurl = "file:${join(d, 'r.db')}"\n${extra}`
  const log = console.log
  console.log = () => {}
  const g = await createGateway(await parseConfig(toml('[admin]\nmax_failed_attempts = 2\n'), 'test.toml', {}))
  console.log = log
  try {
    const ctx = g.admin!.ctx
    ctx.attempts.fail('192.0.2.50')
    ctx.attempts.fail('192.0.2.50')
    expect(ctx.attempts.retryAfter('192.0.2.50')).toBeDefined()
    expect(ctx.trusted.has('192.0.2.9')).toBe(false)
    await g.reload(await parseConfig(toml('[server]\ntrusted_proxies = ["192.0.2.0/28"]\n[admin]\nmax_failed_attempts = 3\n'), 'test.toml', {}))
    expect(ctx.trusted.has('192.0.2.9')).toBe(true)
    expect(ctx.attempts.retryAfter('192.0.2.50')).toBeUndefined()
    ctx.attempts.fail('192.0.2.50')
    expect(ctx.attempts.retryAfter('192.0.2.50')).toBeDefined()
  } finally {
    await g.close()
    rmSync(d, { recursive: true, force: true })
  }
})
