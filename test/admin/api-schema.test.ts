/**
 * The admin API on Elysia's route schemas (src/admin/api.ts): the caller is known before the
 * body is judged, unknown fields anywhere (nested, query) are 400 naming the field, bodies are
 * JSON whatever the content type says, and the OpenAPI document is the API's alone.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { buildFixture, type Fixture } from './fixture'

const V = '/admin/api/v1'
let fx: Fixture

beforeAll(async () => {
  fx = await buildFixture()
})
afterAll(async () => {
  await fx.close()
})

const raw = (method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) =>
  fx.gw.app.handle(new Request(`http://127.0.0.1${path}`, { method, body: init.body, headers: init.headers }))

test('a body that is not JSON is judged only after the caller: 401 without a credential, 400 with one', async () => {
  const anon = await raw('POST', `${V}/projects`, { body: '{not json', headers: { 'content-type': 'application/json' } })
  expect(anon.status).toBe(401)
  expect(((await anon.json()) as any).error.code).toBe('unauthenticated')
  // A session without its CSRF token is refused before its body is looked at, too.
  const noCsrf = await raw('POST', `${V}/projects`, { body: '{not json', headers: { cookie: fx.callers.org.cookie, 'content-type': 'application/json' } })
  expect(noCsrf.status).toBe(403)
  const bad = await raw('POST', `${V}/projects`, { body: '{not json', headers: { authorization: `Bearer ${fx.orgToken}` } })
  expect(bad.status).toBe(400)
  expect(await bad.json()).toEqual({ error: { code: 'invalid_request', message: 'The body is not valid JSON.' } })
})

test('an unauthenticated body is never read: the 401 comes while the body is still arriving', async () => {
  // A body that never ends: had the gateway waited for it, no answer would come.
  let pulled = 0
  const endless = new ReadableStream<Uint8Array>({
    pull(c) {
      pulled++
      c.enqueue(new TextEncoder().encode('{"name":"' + 'x'.repeat(1024)))
      return Bun.sleep(20)
    },
  })
  const res = await Promise.race([
    fx.gw.app.handle(new Request(`http://127.0.0.1${V}/projects`, { method: 'POST', body: endless, headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit)),
    Bun.sleep(3000).then(() => 'still waiting' as const),
  ])
  expect(res === 'still waiting' ? res : res.status).toBe(401)
  expect(pulled).toBeLessThan(5)
  void endless.cancel().catch(() => {})
})

test('an admin body past 1 MiB is a 413', async () => {
  const big = await raw('POST', `${V}/projects`, { body: JSON.stringify({ id: 'big', name: 'x'.repeat(1024 * 1024) }), headers: { authorization: `Bearer ${fx.orgToken}`, 'content-type': 'application/json' } })
  expect(big.status).toBe(413)
})

test('a JSON body is read whatever its content type; an empty body is an empty object', async () => {
  const plain = await raw('PATCH', `${V}/projects/alpha`, { body: '{"name":"Alpha"}', headers: { authorization: `Bearer ${fx.orgToken}`, 'content-type': 'text/plain' } })
  expect(plain.status).toBe(200)
  expect(((await plain.json()) as any).name).toBe('Alpha')
  const empty = await raw('PATCH', `${V}/projects/alpha`, { headers: { authorization: `Bearer ${fx.orgToken}` } })
  expect(empty.status).toBe(200)
  expect(((await empty.json()) as any).name).toBe('Alpha')
})

test('unknown fields are refused, nested ones and query ones too, naming the field', async () => {
  const nested = await fx.api('org', 'POST', `${V}/keys`, { project: 'alpha', limits: { daily_nanos: 5, colour: 'red' } })
  expect(nested.status).toBe(400)
  expect(nested.json.error).toEqual({ code: 'invalid_request', message: 'body.limits.colour: unknown field' })
  const query = await fx.api('org', 'GET', `${V}/request-log?colour=red`)
  expect(query.status).toBe(400)
  expect(query.json.error.message).toBe('query.colour: unknown field')
  const wrong = await fx.api('org', 'POST', `${V}/projects`, { id: 5 })
  expect(wrong.json.error.message).toBe('body.id: expected string')
  const choice = await fx.api('org', 'GET', `${V}/usage/series?bucket=week`)
  expect(choice.status).toBe(400)
  expect(choice.json.error.message).toBe("query.bucket: expected 'minute' or expected 'hour' or expected 'day'")
  for (const q of ['limit=0', 'limit=501', 'limit=2.5', 'limit=abc', 'before=-1']) {
    const r = await fx.api('org', 'GET', `${V}/request-log?project=alpha&${q}`)
    expect(`${q} → ${r.status} ${r.json.error.code} ${r.json.error.message.split(':')[0]}`).toBe(`${q} → 400 invalid_request query.${q.split('=')[0]}`)
  }
  expect((await fx.api('org', 'GET', `${V}/request-log?limit=0`)).json.error.message).toBe('query.limit: expected integer to be greater or equal to 1')
})

test('query values are converted and defaulted as their schemas say', async () => {
  const r = await fx.api('org', 'GET', `${V}/request-log?limit=1`)
  expect(r.status).toBe(200)
  expect(r.json.entries.length).toBe(1)
  const keys = await fx.api('org', 'GET', `${V}/keys?include_revoked=true`)
  expect(keys.status).toBe(200)
})

test('answers are not cached, and creations answer 201', async () => {
  const list = await fx.api('org', 'GET', `${V}/projects`)
  expect(list.headers.get('cache-control')).toBe('no-store')
  const made = await fx.api('org', 'POST', `${V}/projects`, { id: 'made-here' })
  expect(made.status).toBe(201)
  expect(made.headers.get('cache-control')).toBe('no-store')
  const missing = await fx.api('org', 'GET', `${V}/projects/nope`)
  expect(missing.status).toBe(404)
  expect(missing.headers.get('cache-control')).toBe('no-store')
})

test('the OpenAPI document lists only the admin API, with each body schema closed to unknown fields', async () => {
  const doc = (await (await raw('GET', '/admin/api/openapi.json')).json()) as any
  const paths = Object.keys(doc.paths)
  expect(paths.length).toBeGreaterThan(20)
  expect(paths.filter((p) => !p.startsWith(`${V}/`))).toEqual([])
  expect(doc.components.securitySchemes.adminToken.scheme).toBe('bearer')
  for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(ops)) {
      expect(`${method} ${path}: ${op.summary ? 'summary' : 'none'}`).toBe(`${method} ${path}: summary`)
      const body = op.requestBody?.content?.['application/json']?.schema
      if (body) expect(`${method} ${path}: ${body.additionalProperties}`).toBe(`${method} ${path}: false`)
    }
  }
  expect(doc.paths[`${V}/keys/{id}`].get.parameters).toEqual([{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }])
  expect(doc.paths[`${V}/keys`].post.responses['201'].content['application/json'].schema.properties.secret.type).toBe('string')
})
