/**
 * The front door holds every rule the native routes hold: model allow-lists matched against the
 * provider's own model name (duplicate and escaped `model` keys included), provider and project
 * allow-lists, spend limits with reserve and settle, `/v1/models` filtered per key, failover only
 * to targets with a compat endpoint, a 400 naming the native route for a model served only
 * natively, OpenAI-shaped errors, and a provider's own compat error passed through unchanged.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import type { RequestRecord } from '../../src/proxy/record'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { startOAuthServer, type OAuthServer } from '../support/oauth-server'
import { SA_ENV, endpoints, providersToml, recordings, startCompatUpstream, type CompatUpstream } from './support'

const LIMITED = 'tg-test-frontdoor-limited-key-000000000001'
const GROQ_ONLY = 'tg-test-frontdoor-groq-only-key-0000000001'
const TEAM_B = 'tg-test-frontdoor-team-b-key-000000000001'
const BROKE = 'tg-test-frontdoor-broke-key-0000000000001'
const BUDGET = 'tg-test-frontdoor-budget-key-000000000001'

let up: CompatUpstream
let oauth: OAuthServer
let gateway: TestGateway
const records: RequestRecord[] = []

const extra = `
[[keys]]
id = "limited"
project = "default"
key = "${LIMITED}"
models = ["claude-*", "openai.gpt-oss*"]

[[keys]]
id = "groq-only"
project = "default"
key = "${GROQ_ONLY}"
providers = ["groq"]

[[keys]]
id = "broke"
project = "default"
key = "${BROKE}"
limits = { daily = 0.0000001 }

[[keys]]
id = "budget"
project = "default"
key = "${BUDGET}"
limits = { daily = 5 }

[[projects]]
id = "team-b"
providers = ["groq"]

[[keys]]
id = "team-b-key"
project = "team-b"
key = "${TEAM_B}"

[[routes]]
name = "oss"
targets = [
  { provider = "bedrock", priority = 10 },
  { provider = "mantle", priority = 5 },
]
`

beforeAll(async () => {
  oauth = await startOAuthServer()
  up = startCompatUpstream(endpoints(oauth), await recordings())
  gateway = await startGateway(basicConfig(providersToml(up.url, oauth), extra), {
    env: { [SA_ENV]: oauth.accountJson },
    sinks: [{ record: (r: RequestRecord) => void records.push(structuredClone(r)) }],
  })
})
afterAll(async () => {
  await gateway.stop()
  up.stop()
  oauth.stop()
})
beforeEach(() => {
  up.reset()
  records.length = 0
})

const sdk = (key: string) => new OpenAI({ apiKey: key, baseURL: `${gateway.url}/v1`, maxRetries: 0 })
const chat = (key: string, model: string) => sdk(key).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] })
const post = (key: string | undefined, body: string, path = 'chat/completions', method = 'POST') =>
  fetch(`${gateway.url}/v1/${path}`, { method, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json' }, body: method === 'GET' ? undefined : body })

async function settled(): Promise<RequestRecord> {
  for (let i = 0; i < 100 && !records.length; i++) await Bun.sleep(10)
  return records[0]!
}

describe('model allow-lists, on the provider\'s own model name', () => {
  test('allowed models pass, by route:model and by alias', async () => {
    await chat(LIMITED, 'anthropic:claude-sonnet-4-5')
    await chat(LIMITED, 'sonnet')
    await chat(LIMITED, 'bedrock:openai.gpt-oss-120b-1:0')
    expect(up.received.map((r) => r.endpoint)).toEqual(['anthropic', 'anthropic', 'bedrock'])
  })

  test('others are refused before anything goes upstream', async () => {
    for (const model of ['openai:gpt-5', 'vertex:google/gemini-2.5-flash', 'fast', 'groq:openai/gpt-oss-120b']) {
      const err = await chat(LIMITED, model).catch((e) => e)
      expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError)
      expect(err.code).toBe('model_not_allowed')
    }
    expect(up.received).toHaveLength(0)
  })

  test('duplicate and escaped model keys cannot smuggle a model past the list', async () => {
    // JSON.parse takes the last duplicate: that one is checked, and refused.
    for (const body of [
      '{"model":"anthropic:claude-sonnet-4-5","model":"openai:gpt-5","messages":[]}',
      '{"model":"anthropic:claude-sonnet-4-5","mod\\u0065l":"openai:gpt-5","messages":[]}',
    ]) {
      const res = await post(LIMITED, body)
      expect(res.status).toBe(403)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('model_not_allowed')
    }
    expect(up.received).toHaveLength(0)
    // The allowed one last: every top-level model member upstream becomes the provider's name.
    for (const body of [
      '{"model":"openai:gpt-5","model":"anthropic:claude-sonnet-4-5","messages":[]}',
      '{"mod\\u0065l":"openai:gpt-5","model":"anthropic:claude-sonnet-4-5","messages":[]}',
    ]) {
      up.reset()
      expect((await post(LIMITED, body)).status).toBe(200)
      expect(up.received[0]!.endpoint).toBe('anthropic')
      expect(new TextDecoder().decode(up.received[0]!.body)).not.toContain('gpt-5')
    }
  })
})

describe('provider and project allow-lists', () => {
  test('a key limited to groq reaches groq only', async () => {
    expect((await chat(GROQ_ONLY, 'fast')).model).toBe('openai/gpt-oss-120b')
    const err = await chat(GROQ_ONLY, 'anthropic:claude-sonnet-4-5').catch((e) => e)
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError)
    expect(err.code).toBe('provider_not_allowed')
    const group = await chat(GROQ_ONLY, 'sonnet').catch((e) => e)
    expect(group).toBeInstanceOf(OpenAI.PermissionDeniedError)
    expect(up.received.map((r) => r.endpoint)).toEqual(['groq'])
  })

  test("another project's key reaches only its project's providers (the others answer as unknown models)", async () => {
    await chat(TEAM_B, 'groq:openai/gpt-oss-120b')
    for (const model of ['openai:gpt-5', 'gemini:gemini-2.5-flash', 'claude:claude-sonnet-4-5', 'oss:openai.gpt-oss-120b-1:0']) {
      const e = await chat(TEAM_B, model).catch((e) => e)
      expect(e).toBeInstanceOf(OpenAI.NotFoundError)
      expect(e.code).toBe('model_not_found')
    }
    expect(up.received.map((r) => r.endpoint)).toEqual(['groq'])
    expect((await settled()).project).toBe('team-b')
  })
})

describe('spend limits', () => {
  test('a key over its limit gets OpenAI\'s insufficient_quota before anything goes upstream', async () => {
    // The limit may be overshot by one request (README, Spend): the first spends past it.
    expect((await chat(BROKE, 'anthropic:claude-sonnet-4-5')).model).toBe('claude-sonnet-4-5')
    up.reset()
    const res = await post(BROKE, JSON.stringify({ model: 'anthropic:claude-sonnet-4-5', max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] }))
    expect(res.status).toBe(429)
    expect(res.headers.get('x-should-retry')).toBe('false')
    expect(((await res.json()) as { error: { code: string; type: string } }).error).toMatchObject({ type: 'insufficient_quota' })
    expect(up.received).toHaveLength(0)
  })

  test('spend is reserved, then settled at the served provider\'s price', async () => {
    const spent = async () => {
      const r = await fetch(`${gateway.url}/v1/spend?window=day`, { headers: { authorization: `Bearer ${BUDGET}` } })
      return ((await r.json()) as { data: { spent_nanos: number; reserved_nanos: number }[] }).data[0]!
    }
    const before = await spent()
    const res = await sdk(BUDGET).chat.completions.create({ model: 'gemini:gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }).withResponse()
    const cost = Number(res.response.headers.get('x-tollgate-cost-usd'))
    expect(cost).toBeGreaterThan(0)
    const record = await settled()
    expect(record.costNanos).toBe(Math.round(cost * 1e9))
    const after = await spent()
    expect(after.spent_nanos - before.spent_nanos).toBe(record.costNanos!)
    expect(after.reserved_nanos).toBe(0)
  })
})

describe('routing groups and native-only models', () => {
  test('the claude group skips Bedrock and Vertex (Claude only natively there) and serves from Anthropic', async () => {
    await chat(CANARY.gatewayKey, 'claude:claude-sonnet-4-5')
    const record = await settled()
    expect(record.provider).toBe('anthropic')
    expect(record.route).toBe('claude')
    expect(record.attempts!.map((a) => a.provider)).toEqual(['anthropic'])
  })

  test('failover goes to the next compat target', async () => {
    up.script({ status: 503, body: '{"error":{"message":"overloaded"}}' })
    const res = await chat(CANARY.gatewayKey, 'oss:openai.gpt-oss-120b-1:0')
    expect(res.model).toBe('openai.gpt-oss-120b-1:0')
    expect(up.received.map((r) => r.endpoint)).toEqual(['bedrock', 'mantle'])
    const record = await settled()
    expect(record.attempts!.map((a) => [a.provider, a.status])).toEqual([
      ['bedrock', 503],
      ['mantle', 200],
    ])
    expect(record.provider).toBe('mantle')
  })

  test('a model served only natively gets a 400 naming its native route', async () => {
    const cases: [string, string][] = [
      ['bedrock:claude-sonnet-4-5', '/bedrock/v1/messages'],
      ['bedrock:amazon.nova-micro-v1:0', '/bedrock/model/amazon.nova-micro-v1%3A0/converse'],
      ['vertex:claude-sonnet-4-5@20250929', '/vertex/v1/messages'],
    ]
    for (const [model, native] of cases) {
      const err = await chat(CANARY.gatewayKey, model).catch((e) => e)
      expect(err).toBeInstanceOf(OpenAI.BadRequestError)
      expect(err.code).toBe('model_not_compatible')
      expect(err.message).toContain(native)
    }
    expect(up.received).toHaveLength(0)
  })
})

describe('errors', () => {
  test('the gateway\'s own errors are OpenAI-shaped', async () => {
    const cases: [string | undefined, string, string, string, number, string][] = [
      [undefined, '{"model":"openai:gpt-5","messages":[]}', 'chat/completions', 'POST', 401, 'invalid_api_key'],
      [CANARY.gatewayKey, '{"model":"gpt-5","messages":[]}', 'chat/completions', 'POST', 404, 'model_not_found'],
      [CANARY.gatewayKey, '{"model":"nope:gpt-5","messages":[]}', 'chat/completions', 'POST', 404, 'model_not_found'],
      [CANARY.gatewayKey, '{"messages":[]}', 'chat/completions', 'POST', 400, 'missing_model'],
      [CANARY.gatewayKey, 'not json', 'chat/completions', 'POST', 400, 'invalid_json'],
      [CANARY.gatewayKey, '{"model":"openai:","messages":[]}', 'chat/completions', 'POST', 400, 'invalid_model'],
      [CANARY.gatewayKey, '', 'chat/completions', 'GET', 404, 'unknown_url'],
      [CANARY.gatewayKey, '{"model":"openai:gpt-5"}', 'responses', 'POST', 404, 'unknown_url'],
    ]
    for (const [key, body, path, method, status, code] of cases) {
      const res = await post(key, body, path, method)
      expect([path, res.status]).toEqual([path, status])
      const json = (await res.json()) as { error: { code: string; message: string; type: string } }
      expect(json.error.code).toBe(code)
      expect(typeof json.error.type).toBe('string')
    }
    expect(up.received).toHaveLength(0)
  })

  test("a provider's own compat error passes through unchanged", async () => {
    const body = '{"error":{"message":"Invalid value for tool_choice","type":"invalid_request_error","param":"tool_choice","code":null}}'
    up.script({ status: 400, body })
    const res = await post(CANARY.gatewayKey, '{"model":"gemini:gemini-2.5-flash","messages":[]}')
    expect(res.status).toBe(400)
    expect(await res.text()).toBe(body)
  })
})

describe('GET /v1/models', () => {
  type Entry = { id: string; object: string; route: string; model: string; front_door: boolean; native_path?: string; alias?: boolean }
  const models = async (key: string) => (await sdk(key).models.list()).data as unknown as Entry[]

  test('lists configured models, aliases and the price data\'s models, with their route and reachability', async () => {
    const all = await models(CANARY.gatewayKey)
    const ids = all.map((m) => m.id)
    // Configured on groq; genai-prices' models elsewhere; the aliases.
    expect(ids).toContain('groq:openai/gpt-oss-120b')
    expect(ids).toContain('groq:llama-3.3-70b-versatile')
    expect(ids.some((id) => id.startsWith('openai:gpt-'))).toBe(true)
    expect(ids.some((id) => id.startsWith('anthropic:claude-'))).toBe(true)
    expect(all.find((m) => m.id === 'sonnet')).toMatchObject({ object: 'model', route: 'claude', model: 'claude-sonnet-4-5', front_door: true, alias: true })
    // Bedrock's configured Claude alias is reachable only natively.
    expect(all.find((m) => m.id === 'bedrock:claude-sonnet-4-5')).toMatchObject({ front_door: false, native_path: '/bedrock/v1/messages' })
    expect(new Set(ids).size).toBe(ids.length)
  })

  test('filtered by the key\'s model allow-list', async () => {
    const list = await models(LIMITED)
    expect(list.length).toBeGreaterThan(0)
    for (const m of list) expect([m.id, /^(claude-|openai\.gpt-oss)/.test(m.model.replace(/^google\//, ''))]).toEqual([m.id, true])
    expect(list.some((m) => m.id.startsWith('openai:gpt-'))).toBe(false)
    expect(list.some((m) => m.id === 'fast')).toBe(false)
    expect(list.some((m) => m.id === 'sonnet')).toBe(true)
  })

  test("filtered by the key's and the project's provider allow-lists", async () => {
    const expected = ['groq:openai/gpt-oss-120b', 'groq:llama-3.3-70b-versatile', 'fast']
    expect((await models(TEAM_B)).map((m) => m.id).sort()).toEqual(expected.sort())
    expect((await models(GROQ_ONLY)).map((m) => m.id).sort()).toEqual(expected.sort())
  })

  test('one model, and the native model lists still pass through', async () => {
    expect(await sdk(CANARY.gatewayKey).models.retrieve('fast')).toMatchObject({ id: 'fast', route: 'groq' })
    expect(await sdk(TEAM_B).models.retrieve('sonnet').catch((e) => e)).toBeInstanceOf(OpenAI.NotFoundError)
    expect((await fetch(`${gateway.url}/v1/models`)).status).toBe(401)
    up.script({ status: 200, body: '{"object":"list","data":[{"id":"gpt-5","object":"model"}]}' })
    const native = await fetch(`${gateway.url}/openai/models`, { headers: { authorization: `Bearer ${CANARY.gatewayKey}` } })
    expect(await native.text()).toBe('{"object":"list","data":[{"id":"gpt-5","object":"model"}]}')
    expect(up.received[0]!.pathAndQuery).toBe('/openai/v1/models')
  })
})
