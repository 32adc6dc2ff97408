/**
 * The admin UI in headless Chromium (Debian's chromium, driven by playwright-core), end to end:
 * an admin signs in through OIDC (a real OpenID Provider on loopback), creates a project, adds
 * a provider pointed at a replay of a real OpenAI recording, and invites a second user, who
 * accepts by signing in, creates a key, makes requests with the official OpenAI SDK and sees
 * the spend chart and the request log update. The admin lowers the key's limit and the next
 * request is refused; the key is revoked. Every page is saved to test-artifacts/admin/.
 *
 *   npm run test:e2e   (skips with a message when /usr/bin/chromium is absent)
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import type { BrowserContext, Page } from 'playwright-core'
import { parseConfig } from '../../../src/config/load'
import { createGateway, type Gateway } from '../../../src/gateway'
import { listen, type Listening } from '../../../src/server'
import { buildUi } from '../../../scripts/build-ui'
import { loadCassette } from '../../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../../support/replay-upstream'
import { startOp, type TestOp } from '../op'
import { SECRET_KEY } from '../fixture'

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = join(import.meta.dir, '../../../test-artifacts/admin')
const PROVIDER_KEY = 'sk-test-CANARY-e2e-provider-00000000000000001'
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const available = existsSync(CHROMIUM)
if (!available) console.log(`SKIP admin UI browser tests: ${CHROMIUM} is absent (apt-get install -y chromium)`)

let op: TestOp
let upstream: ReplayUpstream
let gw: Gateway
let server: Listening
let base: string
const dirs: string[] = []
const contexts: BrowserContext[] = []
/** Secrets that must never be on a page outside the one dialog that shows them once. */
const secrets = [PROVIDER_KEY, SECRET_KEY]

function temp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  dirs.push(d)
  return d
}

async function browser(): Promise<Page> {
  const { chromium } = await import('playwright-core')
  const ctx = await chromium.launchPersistentContext(temp('tollgate-chromium-'), { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1366, height: 860 } })
  contexts.push(ctx)
  const page = ctx.pages()[0] ?? (await ctx.newPage())
  page.on('dialog', (d) => void d.accept())
  return page
}

/** Saves the page, and checks it shows no secret and no script error. */
async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
  const html = await page.content()
  for (const s of secrets) expect(html.includes(s), `${name} shows a secret`).toBe(false)
  const cookies = await page.context().cookies()
  for (const c of cookies.filter((c) => c.name === 'tollgate_session')) expect(html.includes(c.value), `${name} shows the session secret`).toBe(false)
}

beforeAll(async () => {
  if (!available) return
  mkdirSync(ARTIFACTS, { recursive: true })
  if (!existsSync(join(import.meta.dir, '../../../src/admin/ui-assets.generated.ts'))) await buildUi()
  const probe = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = probe.port!
  probe.stop(true)
  base = `http://127.0.0.1:${port}`
  op = await startOp([`${base}/admin/auth/callback`])
  op.accounts.set('admin@example.com', { email: 'admin@example.com', name: 'Ada Admin' })
  op.accounts.set('dev@example.com', { email: 'dev@example.com', name: 'Dev Eloper' })
  op.accounts.set('ops@example.com', { email: 'ops@example.com', name: 'Olu Ops' })
  upstream = startReplayUpstream((await loadCassette('openai', 'test_max_completion_tokens[gpt-4o-mini]')).interactions)
  const dir = temp('tollgate-e2e-')
  const toml = `
[secrets]
key = "${SECRET_KEY}"
[admin]
public_url = "${base}"
# The UI adds a provider pointed at the local replay upstream.
allow_private_upstreams = true
[auth.oidc]
issuer = "${op.issuer}"
client_id = "tollgate"
client_secret = "${op.clients[0]!.secret}"
redirect_url = "${base}/admin/auth/callback"
allowed_domains = ["example.com"]
admin_emails = ["admin@example.com"]
[database]
url = "file:${join(dir, 'e2e.db')}"
[log]
flush_interval_ms = 100
`
  const log = console.log
  console.log = () => {}
  gw = await createGateway(await parseConfig(toml, 'e2e.toml', {}), { logOutput: { write: async () => {} } })
  server = listen(gw, `127.0.0.1:${port}`, 'e2e.toml')
  console.log = log
})

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {})
  if (!available) return
  await server.stop()
  upstream.stop()
  await op.stop()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const ask = (key: string) =>
  new OpenAI({ apiKey: key, baseURL: `${base}/openai`, maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], max_completion_tokens: 100, stream: false })
const failure = (p: PromiseLike<unknown>) =>
  Promise.resolve(p).then(
    () => undefined,
    (e) => e as { status: number; error?: { type?: string } },
  )

async function signIn(page: Page, email: string): Promise<void> {
  await page.getByLabel('Email').fill(email)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(`${base}/admin/`)
}

test.skipIf(!available)('admin and invited member through the UI: providers, keys, live spend, limits, revocation', async () => {
  // 1. The admin signs in through OIDC.
  const admin = await browser()
  await admin.goto(`${base}/admin/`)
  await admin.getByRole('link', { name: 'Sign in with single sign-on' }).waitFor()
  await shot(admin, '01-sign-in')
  await admin.getByRole('link', { name: 'Sign in with single sign-on' }).click()
  await signIn(admin, 'admin@example.com')
  await admin.getByRole('heading', { name: 'Overview' }).waitFor()
  await admin.getByText('No requests yet').waitFor()
  await shot(admin, '02-overview-empty')

  // Keyboard: Tab reaches the skip link, then the brand and the menu; Enter follows a link.
  const focused = () => admin.evaluate('document.activeElement && document.activeElement.textContent')
  await admin.keyboard.press('Tab')
  expect(await focused()).toBe('Skip to content')
  for (const want of ['Tollgate', 'Overview', 'Projects']) {
    await admin.keyboard.press('Tab')
    expect(await focused()).toBe(want)
  }

  // 2. A project and a provider (reached from the keyboard).
  await admin.keyboard.press('Enter')
  await admin.getByText('No projects yet').waitFor()
  const newProject = admin.locator('section', { hasText: 'New project' })
  await newProject.getByRole('button', { name: 'Create project' }).click()
  // Inline validation: the empty id is flagged before anything is sent.
  await newProject.locator('.field-error').filter({ hasText: /./ }).first().waitFor()
  await shot(admin, '03-project-validation')
  await newProject.getByLabel('Id').fill('search')
  await newProject.getByLabel('Name').fill('Search team')
  await newProject.getByRole('button', { name: 'Create project' }).click()
  await admin.getByRole('heading', { name: 'Project search' }).waitFor()
  await shot(admin, '03b-project')

  await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Providers' }).click()
  await admin.getByText('No providers yet — add your OpenAI key').waitFor()
  await shot(admin, '04-providers-empty')
  const add = admin.locator('section', { hasText: 'Add a provider' })
  await add.getByLabel('Id').fill('openai-main')
  await add.getByLabel('API key').fill(PROVIDER_KEY)
  await add.getByLabel('Base URL (optional)').fill(`${upstream.url}/v1`)
  await add.getByRole('button', { name: 'Save provider' }).click()
  await admin.getByText(`••••${PROVIDER_KEY.slice(-4)}`).waitFor()
  await shot(admin, '05-providers')

  // 3. An invitation, accepted by a second user signing in.
  await admin.goto(`${base}/admin/#/projects/search`)
  const inv = admin.locator('section', { hasText: 'Invitations' })
  await inv.getByRole('button', { name: 'Create invitation link' }).click()
  const link = (await admin.locator('dialog .secret-value').textContent())!
  expect(link).toStartWith(`${base}/admin/invite?token=tgi_`)
  await shot(admin, '06-invitation-link')
  await admin.getByRole('button', { name: 'Done' }).click()

  const dev = await browser()
  await dev.goto(link)
  await dev.getByText('You are invited to join the project').waitFor()
  await shot(dev, '07-invitation-page')
  await dev.getByRole('link', { name: 'Sign in to accept' }).click()
  await signIn(dev, 'dev@example.com')
  await dev.getByRole('heading', { name: 'Overview' }).waitFor()

  // 4. The member creates a key and uses it; the chart and the request log update.
  await dev.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Keys' }).click()
  await dev.getByText('No keys yet').waitFor()
  const create = dev.locator('section', { hasText: 'Create a key' })
  await create.getByLabel('Name').fill('laptop')
  await create.getByRole('button', { name: 'Create key' }).click()
  const secret = (await dev.locator('dialog .secret-value').textContent())!
  expect(secret).toMatch(/^tg_[a-z0-9]{12}_/)
  await dev.screenshot({ path: join(ARTIFACTS, '08-key-created.png') })
  await dev.getByRole('button', { name: 'Done' }).click()
  secrets.push(secret)

  await dev.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click()
  await dev.getByText('No requests yet').waitFor()
  for (let i = 0; i < 3; i++) expect((await ask(secret)).choices[0]!.message.content).toBe('Hello! How can I assist you today?')
  // The overview refreshes itself: the day's request count reaches 3 without a reload.
  await dev.locator('section[aria-label="Today"] dd').first().filter({ hasText: /^3$/ }).waitFor({ timeout: 15_000 })
  expect(await dev.locator('section[aria-label="Today"] .big-number').textContent()).not.toBe('$0.00')
  await dev.waitForTimeout(300)
  await shot(dev, '09-overview-live')
  await dev.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Request log' }).click()
  // A locator wait, not waitForFunction: the UI's CSP forbids evaluating strings.
  let rows = 0
  for (const until = Date.now() + 15_000; rows !== 3 && Date.now() < until; await dev.waitForTimeout(100)) rows = await dev.locator('tbody tr').count()
  expect(rows).toBe(3)
  await shot(dev, '10-request-log')
  await dev.getByRole('link', { name: /Details of request/ }).first().click()
  await dev.getByRole('heading', { name: 'Usage as the provider reported it' }).waitFor()
  await shot(dev, '11-request-detail')

  // 5. The admin lowers the key's limit; the next request is refused.
  await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Keys' }).click()
  const row = admin.locator('tr', { hasText: 'laptop' })
  await row.getByRole('button', { name: 'Limits' }).click()
  const limits = admin.locator('#key-limits')
  await limits.getByLabel('Daily limit (USD)').fill('0.000001')
  await limits.getByRole('button', { name: 'Save limits' }).click()
  await row.getByText('of $0.000001').waitFor()
  await shot(admin, '12-keys-limited')
  const refused = await failure(ask(secret))
  expect(refused?.status).toBe(429)
  expect(refused?.error?.type).toBe('insufficient_quota')

  // 6. The key is revoked; the next request is refused as unknown.
  await row.getByRole('button', { name: 'Revoke' }).click()
  await row.waitFor({ state: 'detached' })
  await admin.getByLabel('Show revoked and expired').check()
  await admin.locator('tr', { hasText: 'laptop' }).getByText('revoked').waitFor()
  await shot(admin, '13-keys-revoked')
  expect((await failure(ask(secret)))?.status).toBe(401)

  // 7. The admin pre-registers an org admin, who is that account at their first sign-in.
  await admin.goto(`${base}/admin/#/users`)
  const pre = admin.locator('section', { hasText: 'Pre-register a user' })
  await pre.getByLabel('User id').fill('ops')
  await pre.getByLabel('Email').fill('ops@example.com')
  await pre.getByLabel('Organisation role').selectOption('admin')
  await pre.getByRole('button', { name: 'Add user' }).click()
  const opsRow = admin.locator('tr', { hasText: 'ops@example.com' })
  await opsRow.waitFor()
  expect(await opsRow.getByLabel('Organisation role of ops').inputValue()).toBe('admin')
  await shot(admin, '13b-user-pre-registered')
  const ops = await browser()
  await ops.goto(`${base}/admin/`)
  await ops.getByRole('link', { name: 'Sign in with single sign-on' }).click()
  await signIn(ops, 'ops@example.com')
  await ops.getByRole('heading', { name: 'Overview' }).waitFor()
  // An org admin's menu: Settings is there.
  await ops.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).waitFor()

  // The other pages, as the admin sees them.
  for (const [hash, name, heading] of [
    ['#/users', '14-users', 'Users and invitations'],
    ['#/audit', '15-audit', 'Audit log'],
    ['#/settings', '16-settings', 'Settings'],
    ['#/', '17-overview-admin', 'Overview'],
  ] as const) {
    await admin.goto(`${base}/admin/${hash}`)
    await admin.getByRole('heading', { name: heading, exact: true }).waitFor()
    await admin.waitForTimeout(200)
    await shot(admin, name)
  }
  // The member sees only what is theirs.
  await dev.goto(`${base}/admin/#/keys`)
  await dev.getByText('No keys yet').waitFor()
  expect(await dev.getByRole('link', { name: 'Settings' }).count()).toBe(0)
  await shot(dev, '18-member-keys')
}, 120_000)
