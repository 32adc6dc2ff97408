/**
 * pricing.unknown_model (issue 14 §5). "limited", the default, refuses a model that cannot be
 * priced only where a spend limit or prepaid credits apply (the key, its user, its project, or
 * a managed provider's credits); otherwise the request passes and is recorded unpriced with its
 * tokens, and a model the upstream does not have gets the upstream's own 404 unchanged.
 * "reject" refuses it everywhere; "allow" lets it through everywhere, unpriced.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { addCredits } from '../../src/spend/credits'
import type { TestGateway } from '../support/gateway'
import { spendGateway } from './helpers'

const UNPRICED = 'house-llm-unpriced-1'
const MISSING = 'gpt-does-not-exist'
/** OpenAI's answer for a model it does not have, byte for byte. */
const NOT_FOUND = `{\n    "error": {\n        "message": "The model \`${MISSING}\` does not exist or you do not have access to it.",\n        "type": "invalid_request_error",\n        "param": null,\n        "code": "model_not_found"\n    }\n}\n`

let upstream: ReturnType<typeof Bun.serve>
let calls = 0
const gws: Record<'limited' | 'reject' | 'allow', TestGateway> = {} as never

const KEYS = {
  open: 'tg-unknown-open-key-00000000000001',
  key: 'tg-unknown-keylimit-000000000000001',
  user: 'tg-unknown-userlimit-00000000000001',
  project: 'tg-unknown-projlimit-00000000000001',
  credits: 'tg-unknown-credits-000000000000001',
  managed: 'tg-unknown-managed-000000000000001',
}

function toml(url: string, rule: string | undefined): string {
  return `
[[providers]]
id = "openai"
api = "openai"
base_url = "${url}/v1"
api_key = "sk-upstream"

[[providers]]
id = "house"
api = "openai"
base_url = "${url}/v1"
api_key = "sk-operator"
managed = true
${rule ? `\n[pricing]\nunknown_model = "${rule}"\n` : ''}
[[projects]]
id = "open"
[[projects]]
id = "capped"
limits = { monthly = 100 }
[[projects]]
id = "prepaid"

[[users]]
id = "ulim"
projects = ["open"]
limits = { daily = 5 }

[[keys]]
id = "open-key"
project = "open"
key = "${KEYS.open}"
[[keys]]
id = "key-limited"
project = "open"
key = "${KEYS.key}"
limits = { daily = 5 }
[[keys]]
id = "user-limited"
project = "open"
user = "ulim"
key = "${KEYS.user}"
[[keys]]
id = "project-limited"
project = "capped"
key = "${KEYS.project}"
[[keys]]
id = "credits-key"
project = "prepaid"
key = "${KEYS.credits}"
`
}

beforeAll(async () => {
  upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      calls++
      const body = (await req.json()) as { model: string }
      if (body.model === MISSING) return new Response(NOT_FOUND, { status: 404, headers: { 'content-type': 'application/json', 'x-request-id': 'req_upstream_404' } })
      return Response.json({
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1,
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
      })
    },
  })
  const url = `http://127.0.0.1:${upstream.port}`
  gws.limited = await spendGateway(toml(url, undefined))
  gws.reject = await spendGateway(toml(url, 'reject'))
  gws.allow = await spendGateway(toml(url, 'allow'))
  for (const g of Object.values(gws)) {
    await addCredits(g.gw.database.db, 'prepaid', 1_000_000_000, 'test')
    await g.gw.spend.refreshCredits()
  }
})
afterAll(async () => {
  for (const g of Object.values(gws)) await g.stop()
  upstream.stop(true)
})

const client = (g: TestGateway, key: string, route = 'openai') => new OpenAI({ apiKey: key, baseURL: `${g.url}/${route}`, maxRetries: 0 })
const ask = (c: OpenAI, model = UNPRICED) => c.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).withResponse()

async function refusedUnpriced(g: TestGateway, key: string, route = 'openai') {
  const before = calls
  const e = (await ask(client(g, key, route)).catch((x: unknown) => x)) as InstanceType<typeof OpenAI.BadRequestError>
  expect(e).toBeInstanceOf(OpenAI.BadRequestError)
  expect(e.code).toBe('unknown_model_price')
  expect(e.message).toContain(`[[pricing.models]] model = "${UNPRICED}"`)
  expect(calls).toBe(before)
}

async function logRow(g: TestGateway, id: string) {
  await g.gw.requestLog.flush()
  return (await g.gw.database.client.execute({ sql: 'SELECT status, model, input_tokens, output_tokens, cost_nanos FROM request_log WHERE id = ?', args: [id] })).rows[0]
}

async function ledgerRow(g: TestGateway, id: string) {
  await g.gw.spend.ledger.flush()
  return (await g.gw.database.client.execute({ sql: 'SELECT state, cost_nanos, unpriced FROM spend_ledger WHERE request_id = ?', args: [id] })).rows[0]
}

async function passesUnpriced(g: TestGateway, key: string) {
  const before = calls
  const { data, response } = await ask(client(g, key))
  expect(calls).toBe(before + 1)
  expect(data.usage?.total_tokens).toBe(18)
  // No price, so no cost header: the gateway does not pretend it was free.
  expect(response.headers.get('x-tollgate-cost-usd')).toBeNull()
  const id = response.headers.get('x-tollgate-request-id')!
  const row = await logRow(g, id)
  expect(row).toMatchObject({ status: 200, model: UNPRICED, input_tokens: 11, output_tokens: 7, cost_nanos: null })
  expect(await ledgerRow(g, id)).toMatchObject({ cost_nanos: 0, unpriced: 1 })
}

describe('unknown_model = "limited" (the default)', () => {
  test('an unlimited key passes; the request is recorded unpriced with its tokens', async () => {
    expect(gws.limited.gw.config.pricing.unknown_model).toBe('limited')
    await passesUnpriced(gws.limited, KEYS.open)
  })
  test('a key limit, a user limit, a project limit or prepaid credits: refused before upstream', async () => {
    for (const k of [KEYS.key, KEYS.user, KEYS.project, KEYS.credits]) await refusedUnpriced(gws.limited, k)
  })
  test('a managed provider draws on credits: refused even for a project with none', async () => {
    await refusedUnpriced(gws.limited, KEYS.open, 'house')
  })
  test("an unlimited key gets OpenAI's own 404 model_not_found, unchanged", async () => {
    const res = await fetch(`${gws.limited.url}/openai/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.open}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MISSING, messages: [{ role: 'user', content: 'hi' }] }),
    })
    expect(res.status).toBe(404)
    expect(await res.text()).toBe(NOT_FOUND)
    const e = (await ask(client(gws.limited, KEYS.open), MISSING).catch((x: unknown) => x)) as InstanceType<typeof OpenAI.NotFoundError>
    expect(e).toBeInstanceOf(OpenAI.NotFoundError)
    expect(e.code).toBe('model_not_found')
  })
  test('a priced model is unaffected, limited or not', async () => {
    const { response } = await ask(client(gws.limited, KEYS.key), 'gpt-4o-mini')
    expect(Number(response.headers.get('x-tollgate-cost-usd'))).toBeGreaterThan(0)
  })
})

describe('unknown_model = "reject"', () => {
  test('refused for every key, limited or not', async () => {
    for (const k of [KEYS.open, KEYS.key, KEYS.credits]) await refusedUnpriced(gws.reject, k)
  })
})

describe('unknown_model = "allow"', () => {
  test('passes for every key, limited or not, recorded unpriced with its tokens', async () => {
    for (const k of [KEYS.open, KEYS.key, KEYS.user, KEYS.project, KEYS.credits]) await passesUnpriced(gws.allow, k)
  })
})
