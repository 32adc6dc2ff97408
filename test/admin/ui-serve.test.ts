/** The admin UI is served from the embedded build (or /admin explains that it was not built). */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { adminToml, startAdminGateway } from './fixture'
import type { Gateway } from '../../src/gateway'
import { buildUi } from '../../scripts/build-ui'

let gw: Gateway
let dir: string

beforeAll(async () => {
  if (!existsSync(join(import.meta.dir, '../../src/admin/ui-assets.generated.ts'))) await buildUi()
  ;({ gw, dir } = await startAdminGateway(adminToml()))
})
afterAll(async () => {
  await gw.close()
  rmSync(dir, { recursive: true, force: true })
})

test('/admin/ serves the app with a strict CSP and its hashed assets; nothing from elsewhere', async () => {
  const page = await gw.app.handle(new Request('http://127.0.0.1/admin/'))
  expect(page.status).toBe(200)
  expect(page.headers.get('content-type')).toContain('text/html')
  expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
  const html = await page.text()
  const assets = [...html.matchAll(/(?:src|href)="(\/admin\/assets\/[^"]+)"/g)].map((m) => m[1]!)
  expect(assets.length).toBeGreaterThanOrEqual(2)
  expect(html).not.toMatch(/(src|href)="https?:/)
  for (const a of assets) {
    const r = await gw.app.handle(new Request(`http://127.0.0.1${a}`))
    expect(r.status).toBe(200)
    expect(r.headers.get('cache-control')).toContain('immutable')
    const body = await r.text()
    expect(body).not.toMatch(/https?:\/\/(cdn|unpkg|fonts\.googleapis)/)
  }
  expect((await gw.app.handle(new Request('http://127.0.0.1/admin/assets/nope.js'))).status).toBe(404)
  expect((await gw.app.handle(new Request('http://127.0.0.1/admin/whatever'))).status).toBe(404)
})

test('the API docs page and OpenAPI document are served from the binary', async () => {
  const doc = (await (await gw.app.handle(new Request('http://127.0.0.1/admin/api/openapi.json'))).json()) as any
  expect(doc.openapi).toBe('3.1.0')
  expect(Object.keys(doc.paths)).toContain('/admin/api/v1/keys/{id}/revoke')
  expect(doc.paths['/admin/api/v1/projects'].post.requestBody.content['application/json'].schema.properties.id.type).toBe('string')
  const docs = await gw.app.handle(new Request('http://127.0.0.1/admin/api/docs'))
  expect(await docs.text()).toContain('/admin/api/docs.js')
  expect((await gw.app.handle(new Request('http://127.0.0.1/admin/api/docs.js'))).status).toBe(200)
  const unknown = await gw.app.handle(new Request('http://127.0.0.1/admin/api/v1/nope'))
  expect(unknown.status).toBe(404)
  expect(((await unknown.json()) as any).error.code).toBe('not_found')
})
