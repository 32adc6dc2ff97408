/**
 * Bootstrap without OIDC: the first start with an empty database prints a one-time setup
 * link; opening it makes the first org admin (once). `tollgate admin bootstrap` and
 * `tollgate admin-token create` from the real CLI. An id declared in config.toml and in the
 * database stops the start with a message naming both.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, parseConfig } from '../../src/config/load'
import { createGateway } from '../../src/gateway'
import { adminProjects, adminTokens } from '../../src/db/schema-admin'
import { cli } from '../support/cli'
import { request, SECRET_KEY } from './fixture'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tollgate-boot-'))
  dirs.push(d)
  return d
}

async function start(dir: string, extra = '') {
  const lines: string[] = []
  const log = console.log
  console.log = (...a: unknown[]) => void lines.push(a.join(' '))
  try {
    const loaded = await parseConfig(`[secrets]\nkey = "${SECRET_KEY}"\n[admin]\npublic_url = "http://gw.test:8787"\n[database]\nurl = "file:${join(dir, 't.db')}"\n${extra}`, 'config.toml', {})
    return { gw: await createGateway(loaded), lines }
  } finally {
    console.log = log
  }
}

test('first start prints a setup link; it makes one org admin, once; later starts print none', async () => {
  const dir = tempDir()
  const { gw, lines } = await start(dir)
  const line = lines.find((l) => l.includes('/admin/setup?token='))!
  expect(line).toContain('http://gw.test:8787/admin/setup?token=tgs_')
  const link = new URL(/(http\S+)/.exec(line)![1]!)
  const token = link.searchParams.get('token')!
  const page = await gw.app.handle(new Request(`http://gw.test:8787/admin/setup?token=${token}`))
  expect(page.status).toBe(200)
  expect(page.headers.get('content-security-policy')).toContain("default-src 'none'")
  expect(await page.text()).toContain('Create admin and sign in')
  const post = () =>
    gw.app.handle(
      new Request('http://gw.test:8787/admin/setup', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, user: 'admin', email: 'ops@example.com' }) }),
    )
  const ok = await post()
  expect(ok.status).toBe(302)
  expect(ok.headers.get('location')).toBe('/admin/')
  const cookie = ok.headers.getSetCookie()[0]!.split(';')[0]!
  const me = await request(gw, { cookie, csrf: '', secret: '' }, 'GET', '/admin/api/v1/session')
  expect(me.json.org_role).toBe('admin')
  expect(me.json.user.id).toBe('admin')
  // Single use.
  expect((await post()).status).toBe(410)
  await gw.close()
  const again = await start(dir)
  expect(again.lines.some((l) => l.includes('/admin/setup'))).toBe(false)
  await again.gw.close()
})

test('invitations need single sign-on; the page says so', async () => {
  const { gw } = await start(tempDir())
  const page = await gw.app.handle(new Request('http://gw.test:8787/admin/invite?token=tgi_nope'))
  expect(page.status).toBe(410)
  await gw.close()
})

test('an id declared in config.toml and in the database is a start-up error naming both', async () => {
  const dir = tempDir()
  const first = await start(dir)
  await first.gw.database.db.insert(adminProjects).values({ id: 'default', createdAt: Date.now() })
  await first.gw.close()
  const err = await start(dir, '[[projects]]\nid = "default"\n').then(
    () => undefined,
    (e) => e as Error,
  )
  expect(err).toBeInstanceOf(ConfigError)
  expect(err!.message).toContain('project id "default" is declared in config.toml (projects[0])')
  expect(err!.message).toContain('admin_projects')
})

test('CLI: `admin bootstrap` prints a working link; `admin-token create` prints a token stored only hashed', async () => {
  const dir = tempDir()
  const config = join(dir, 'config.toml')
  writeFileSync(config, `[admin]\npublic_url = "http://gw.test:8787"\n[database]\nurl = "file:${join(dir, 'cli.db')}"\n`)
  const boot = await cli(['admin', 'bootstrap', '--config', config])
  expect(boot.code).toBe(0)
  expect(boot.stdout.trim()).toMatch(/^http:\/\/gw\.test:8787\/admin\/setup\?token=tgs_[A-Za-z0-9_-]{43}$/)
  const tok = await cli(['admin-token', 'create', '--config', config, '--role', 'org_admin', '--name', 'ci'])
  expect(tok.code).toBe(0)
  const secret = tok.stdout.trim()
  expect(secret).toMatch(/^tga_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/)
  expect((await cli(['admin-token', 'create', '--config', config, '--role', 'project_admin'])).code).not.toBe(0)

  // A server on the database the CLI wrote to.
  const log = console.log
  console.log = () => {}
  const gw = await createGateway(await parseConfig(`[admin]\npublic_url = "http://gw.test:8787"\n[database]\nurl = "file:${join(dir, 'cli.db')}"\n`, 'config.toml', {}))
  console.log = log
  const rows = await gw.database.db.select().from(adminTokens)
  expect(JSON.stringify(rows)).not.toContain(secret)
  expect((await request(gw, { bearer: secret }, 'GET', '/admin/api/v1/projects')).status).toBe(200)
  // The bootstrap link works in the server.
  const token = new URL(boot.stdout.trim()).searchParams.get('token')!
  const ok = await gw.app.handle(new Request('http://gw.test:8787/admin/setup', { method: 'POST', body: new URLSearchParams({ token, user: 'root' }) }))
  expect(ok.status).toBe(302)
  const list = await cli(['admin-token', 'list', '--config', config])
  expect(list.stdout).toContain('org_admin')
  expect(list.stdout).not.toContain(secret.slice(17))
  await gw.close()
})
