/**
 * Session cookies through Elysia's cookie jar: HttpOnly, SameSite=Lax, Path=/admin, and Secure
 * whenever `[admin] public_url` is https (even when the request itself came over plain http,
 * as behind a TLS-terminating proxy). Cookie values that are not plain strings are no credential.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { createSetupLink } from '../../src/admin/setup'
import type { Gateway } from '../../src/gateway'
import { adminToml, request, startAdminGateway } from './fixture'

let gw: Gateway
let dir: string

beforeAll(async () => {
  ;({ gw, dir } = await startAdminGateway(adminToml('public_url = "https://gateway.example.com"')))
})

afterAll(async () => {
  await gw.close()
  rmSync(dir, { recursive: true, force: true })
})

async function redeem(): Promise<Response> {
  const link = await createSetupLink(gw.database.db, 'https://gateway.example.com')
  const token = new URL(link).searchParams.get('token')!
  return gw.app.handle(
    new Request('http://127.0.0.1/admin/setup', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${token}&user=admin` }),
  )
}

test('public_url https: the session cookie is Secure, HttpOnly, SameSite=Lax, Path=/admin, with an expiry', async () => {
  const res = await redeem()
  expect(res.status).toBe(302)
  const set = res.headers.getSetCookie()
  expect(set).toHaveLength(1)
  const c = set[0]!
  expect(c).toMatch(/^tollgate_session=tgss_[A-Za-z0-9_-]+; /)
  for (const attr of ['Secure', 'HttpOnly', 'SameSite=Lax', 'Path=/admin', `Max-Age=${12 * 3600}`]) expect(c.split('; ')).toContain(attr)
  const cookie = c.split(';')[0]!
  const me = await request(gw, { cookie, csrf: '', secret: '' }, 'GET', '/admin/api/v1/session')
  expect(me.status).toBe(200)
  // Signing out clears it with the same attributes.
  const out = await request(gw, { cookie, csrf: me.json.csrf_token, secret: '' }, 'DELETE', '/admin/api/v1/session')
  expect(out.status).toBe(200)
  const cleared = out.headers.getSetCookie()[0]!.split('; ')
  expect(cleared[0]).toBe('tollgate_session=')
  for (const attr of ['Secure', 'HttpOnly', 'SameSite=Lax', 'Path=/admin', 'Max-Age=0']) expect(cleared).toContain(attr)
  expect((await request(gw, { cookie, csrf: '', secret: '' }, 'GET', '/admin/api/v1/session')).status).toBe(401)
})

test('a cookie value Elysia would read as JSON or a number, or a malformed one, is refused with 401', async () => {
  for (const cookie of ['tollgate_session={"a":1}', 'tollgate_session=12345', 'tollgate_session=%zz', 'tollgate_session=', 'other=1']) {
    const r = await request(gw, { cookie, csrf: '', secret: '' }, 'GET', '/admin/api/v1/session')
    expect(r.status).toBe(401)
    expect(r.json.error.code).toBe('unauthenticated')
  }
})
