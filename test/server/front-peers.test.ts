/**
 * Behind the TLS / HTTP/2 front listener the gateway still sees each client's own address
 * (src/net/peers.ts), so per-address limits (failed admin sign-ins) hold one client, not all:
 * HTTP/1.1 piped to Bun.serve and HTTP/2 through the bridge, from several loopback addresses.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import net from 'node:net'
import http2 from 'node:http2'
import { basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { request } from '../support/h2-client'
import { SECRET_KEY } from '../admin/fixture'

let g: TestGateway
const BAD = { authorization: `Bearer tga_aaaaaaaaaaaa_${'A'.repeat(43)}` }
const session = '/admin/api/v1/session'

beforeAll(async () => {
  g = await startGateway(basicConfig('', `[secrets]\nkey = "${SECRET_KEY}"\n\n[admin]\nmax_failed_attempts = 2\n\n[server]\nhttp2 = true`))
})
afterAll(() => g.stop())

/** One HTTP/1.1 request from `from` through the front listener; the status. */
function http1(from: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host: '127.0.0.1', port: g.server.port, localAddress: from }, () =>
      c.write(`GET ${session} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${BAD.authorization}\r\nConnection: close\r\n\r\n`),
    )
    let raw = ''
    c.on('data', (d) => (raw += d))
    c.on('end', () => resolve(Number(raw.split(' ')[1])))
    c.on('error', reject)
  })
}

/** An h2c session from `from`. */
function h2From(from: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(g.url, { createConnection: () => net.connect({ host: '127.0.0.1', port: g.server.port, localAddress: from }) })
    s.once('connect', () => resolve(s))
    s.once('error', reject)
  })
}

test('HTTP/1.1 through the front: one address reaching the limit does not lock out another', async () => {
  expect(await http1('127.0.0.2')).toBe(401)
  expect(await http1('127.0.0.2')).toBe(401)
  expect(await http1('127.0.0.2')).toBe(429)
  expect(await http1('127.0.0.3')).toBe(401)
})

test('HTTP/2 through the bridge: counted per client address too', async () => {
  const a = await h2From('127.0.0.4')
  const b = await h2From('127.0.0.5')
  try {
    const status = async (s: http2.ClientHttp2Session) => (await request(s, { path: session, headers: BAD })).status
    expect(await status(a)).toBe(401)
    expect(await status(a)).toBe(401)
    expect(await status(a)).toBe(429)
    expect(await status(b)).toBe(401)
    // And HTTP/1.1 from yet another address is untouched by both.
    expect(await http1('127.0.0.6')).toBe(401)
  } finally {
    a.close()
    b.close()
  }
})
