/**
 * The admin's own base URL and cookie security with [server] tls_cert: https, although
 * HTTP/1.1 requests reach Bun.serve in clear text behind the TLS front listener (so
 * request.url says http://).
 */
import { expect, test } from 'bun:test'
import { parseConfig } from '../../src/config/load'
import { overTls, publicBase } from '../../src/admin/context'

const config = async (server: string) => (await parseConfig(`[server]\nlisten = "0.0.0.0:8443"\n${server}\n[database]\nurl = "file::memory:"\n`, 'config.toml', {})).config
// What Bun.serve sees for `https://gw.example:8443/admin/` behind the front listener.
const inner = new Request('http://gw.example:8443/admin/')

test('with tls_cert, links, the CSRF origin and Secure cookies are https', async () => {
  const c = await config('tls_cert = "/etc/tollgate/cert.pem"\ntls_key = "/etc/tollgate/key.pem"')
  expect(publicBase(c)).toBe('https://127.0.0.1:8443')
  expect(publicBase(c, inner)).toBe('https://gw.example:8443')
  expect(overTls(c, inner)).toBe(true)
})

test('without TLS they stay http, and public_url wins over both', async () => {
  const c = await config('')
  expect(publicBase(c)).toBe('http://127.0.0.1:8443')
  expect(publicBase(c, inner)).toBe('http://gw.example:8443')
  expect(overTls(c, inner)).toBe(false)
  const withPublic = (await parseConfig(`[server]\ntls_cert = "/c.pem"\ntls_key = "/k.pem"\n[admin]\npublic_url = "https://tollgate.example/"\n[database]\nurl = "file::memory:"\n`, 'config.toml', {})).config
  expect(publicBase(withPublic, inner)).toBe('https://tollgate.example')
})
