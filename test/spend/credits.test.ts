/**
 * Managed providers draw on prepaid project credits: top-up (through the CLI), draw-down with
 * a markup, exhaustion answered with the provider's native quota reply naming credits, and
 * BYOK providers untouched. Also Anthropic's native 402 for an exhausted limit.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI, { RateLimitError } from 'openai'
import { creditLedger, spendLedger } from '../../src/db/schema-spend'
import { topupsQuery } from '../../src/spend/counters'
import type { TestGateway } from '../support/gateway'
import { costOf, startFixedUpstream, type ScriptedUpstream } from './upstream'
import { eventually, inflight, spendGateway } from './helpers'

const USAGE = { prompt: 20, completion: 100 }
const CHARGED = Math.round(costOf(USAGE) * 1.2)
let upstream: ScriptedUpstream
let gw: TestGateway
let configFile: string
const KEY = 'tg-credits-test-key-000000000001'

beforeAll(async () => {
  upstream = startFixedUpstream({ usage: USAGE })
  const toml = `
[[providers]]
id = "house"
api = "openai"
base_url = "${upstream.url}/v1"
api_key = "sk-operator"
managed = true
markup = 20

[[providers]]
id = "byok"
api = "openai"
base_url = "${upstream.url}/v1"
api_key = "sk-customer"

[[providers]]
id = "anthropic"
api = "anthropic"
base_url = "http://127.0.0.1:9"
api_key = "sk-ant-x"

[[projects]]
id = "shop"

[[projects]]
id = "frozen"
limits = { monthly = 0 }

[[keys]]
id = "shop-key"
project = "shop"
key = "${KEY}"

[[keys]]
id = "frozen-key"
project = "frozen"
key = "tg-frozen-key-0000000000000001"
`
  gw = await spendGateway(toml)
  configFile = join(gw.dir, 'config.toml')
  await Bun.write(configFile, `${toml}\n[database]\nurl = "file:${join(gw.dir, 'test.db')}"\n`)
})
afterAll(async () => {
  await gw.stop()
  upstream.stop()
})

const cli = async (...args: string[]) => {
  const p = Bun.spawn([process.execPath, 'src/cli.ts', ...args, '--config', configFile], { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: '256' } })
  const out = await new Response(p.stdout).text()
  expect(await p.exited).toBe(0)
  return out
}

const house = () => new OpenAI({ apiKey: KEY, baseURL: `${gw.url}/house`, maxRetries: 0 })
const ask = (c: OpenAI) => c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })

test('no credits: the native quota reply names credits; BYOK is not held', async () => {
  const e = await ask(house()).then(() => undefined, (x) => x)
  expect(e).toBeInstanceOf(RateLimitError)
  expect(e.error.type).toBe('insufficient_quota')
  expect(e.code).toBe('insufficient_credits')
  expect(e.message).toContain('credits')
  expect(e.message).toContain('tollgate credits add --project shop')
  expect(e.headers.get('x-should-retry')).toBe('false')
  await ask(new OpenAI({ apiKey: KEY, baseURL: `${gw.url}/byok`, maxRetries: 0 }))
})

test('top-up, draw-down with markup, exhaustion', async () => {
  expect(await cli('credits', 'add', '--project', 'shop', '--usd', '0.005')).toContain('added $0.005 to project shop')
  await gw.gw.spend.refreshCredits()
  let ok = 0
  for (let i = 0; i < 10; i++) {
    const r = await ask(house()).then(() => true, (x) => {
      if (!(x instanceof RateLimitError)) throw x
      return false
    })
    await eventually(() => inflight(gw, 'credits', 'shop') === 0)
    if (!r) break
    ok++
  }
  // $0.005 at $0.00126 a request: three fit, a fourth spends the last cents, the fifth is refused.
  expect(ok).toBe(4)
  const c = gw.gw.spend.credits('shop')
  expect(c.used).toBe(4 * CHARGED)
  expect(c.used - c.topups).toBeLessThanOrEqual(CHARGED)
  await gw.gw.spend.ledger.flush()
  const credits = await gw.gw.database.db.select().from(creditLedger)
  expect(credits.filter((x) => x.kind === 'topup').map((x) => x.amountNanos)).toEqual([5_000_000])
  expect(credits.filter((x) => x.kind === 'usage').map((x) => x.amountNanos)).toEqual([-CHARGED, -CHARGED, -CHARGED, -CHARGED])
  const rows = (await gw.gw.database.db.select().from(spendLedger)).filter((r) => r.managed)
  expect(rows.map((r) => [r.providerCostNanos, r.costNanos])).toEqual(Array(4).fill([costOf(USAGE), CHARGED]))
  const shown = await cli('credits', 'show')
  expect(shown).toContain('shop')
  expect(shown).toContain(`-$0.00004`)
})

test('Anthropic answers an exhausted limit with its native 402 billing_error', async () => {
  const a = new Anthropic({ apiKey: 'tg-frozen-key-0000000000000001', baseURL: `${gw.url}/anthropic`, maxRetries: 0 })
  const e = await a.messages.create({ model: 'claude-3-5-sonnet-latest', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }).then(() => undefined, (x) => x)
  expect(e).toBeInstanceOf(Anthropic.APIError)
  expect(e.status).toBe(402)
  expect(e.error.error.type).toBe('billing_error')
  expect(e.error.error.message).toContain('project "frozen"')
  expect(e.error.error.message).toContain('monthly limit is $0.00')
  expect(Number(e.headers.get('retry-after'))).toBeGreaterThan(0)
})

test('the periodic top-up refresh reads top-ups only, from an index, not every usage row', async () => {
  if (gw.databaseUrl.startsWith('postgres')) return
  await cli('credits', 'add', '--project', 'shop', '--usd', '0.001')
  await gw.gw.spend.refreshCredits()
  expect(gw.gw.spend.credits('shop').topups).toBe(6_000_000)
  const q = topupsQuery(gw.gw.database.db).toSQL()
  const plan = await gw.gw.database.client.execute({ sql: `EXPLAIN QUERY PLAN ${q.sql}`, args: q.params as never[] })
  expect(plan.rows.map((r) => String(r.detail)).join('\n')).toContain('USING COVERING INDEX credit_ledger_kind')
})
