/**
 * The HTTP/2 bridge on its own (src/net/h2-bridge.ts): what a handler gets as a Request and
 * how its Response goes back, with a plain handler in place of the gateway.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { AddressInfo } from 'node:net'
import type http2 from 'node:http2'
import { createH2Bridge, type H2Bridge } from '../../src/net/h2-bridge'
import { connect, request } from '../support/h2-client'

let bridge: H2Bridge
let session: http2.ClientHttp2Session
let seen: Request | undefined
let bodyError: string | undefined

beforeAll(async () => {
  bridge = createH2Bridge(
    async (r) => {
      seen = r
      bodyError = undefined
      if (r.method !== 'POST') return new Response('hello', { headers: { 'set-cookie': 'a=1', connection: 'keep-alive', 'x-multi': 'one' } })
      try {
        const n = (await r.arrayBuffer()).byteLength
        return Response.json({ bytes: n })
      } catch (e) {
        bodyError = (e as Error).message
        return new Response(null, { status: 413 })
      }
    },
    { scheme: 'https', maxBodyBytes: 100_000, idleTimeoutMs: 60_000 },
  )
  await new Promise<void>((resolve) => bridge.server.listen(0, '127.0.0.1', resolve))
  session = await connect(`http://127.0.0.1:${(bridge.server.address() as AddressInfo).port}`)
})
afterAll(() => {
  session.close()
  bridge.server.close()
})

test('the Request carries the scheme, authority, path, method and headers; cookies are joined with "; "', async () => {
  const res = await request(session, { path: '/v1/x?q=1', headers: { ':authority': 'gw.example:8443', cookie: 'a=1', 'x-key': 'v' } })
  expect(res.status).toBe(200)
  expect(res.text).toBe('hello')
  expect(seen!.url).toBe('https://gw.example:8443/v1/x?q=1')
  expect(seen!.method).toBe('GET')
  expect(seen!.headers.get('x-key')).toBe('v')
  // Set-Cookie kept; a connection-level header (forbidden in HTTP/2) dropped, not a protocol error.
  expect(res.headers['set-cookie']).toEqual(['a=1'])
  expect(res.headers.connection).toBeUndefined()
  const split = session.request({ ':path': '/', cookie: ['a=1', 'b=2'] } as unknown as http2.OutgoingHttpHeaders)
  await new Promise((r) => split.on('response', r).resume().on('end', r))
  expect(seen!.headers.get('cookie')).toBe('a=1; b=2')
})

test('a streamed body arrives whole; past maxBodyBytes the handler sees an error and the session lives on', async () => {
  const ok = await request(session, { path: '/up', body: new Uint8Array(90_000) })
  expect(JSON.parse(ok.text)).toEqual({ bytes: 90_000 })
  const big = await request(session, { path: '/up', body: new Uint8Array(300_000) })
  expect(big.status).toBe(413)
  expect(bodyError).toBe('request body too large')
  expect((await request(session, { path: '/' })).status).toBe(200)
})

test('a declared content-length past the limit is a 413 without calling the handler', async () => {
  seen = undefined
  const res = await request(session, { path: '/up', headers: { 'content-length': '200000' }, body: '{}' }).then((r) => r.status, () => 'reset')
  expect(res).toBe(413)
  expect(seen).toBeUndefined()
})

test('an authority no URL can hold never reaches the handler (400, or refused by the HTTP/2 parser)', async () => {
  seen = undefined
  const res = await request(session, { path: '/', headers: { ':authority': 'bad host:x' } }).then((r) => r.status, (e: Error) => e.message)
  expect([400, 'Stream closed with error code NGHTTP2_PROTOCOL_ERROR']).toContain(res)
  expect(seen).toBeUndefined()
  expect((await request(session, { path: '/' })).status).toBe(200)
})
