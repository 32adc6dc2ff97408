/**
 * One request's cost from start to end, through a real gateway and the official OpenAI SDK:
 * the cost header and inject_cost, unknown models, config prices, and every way a request can
 * end early (disconnect before the first byte, mid-stream, at the end; the upstream breaking
 * mid-stream; failover). In every case: exactly one settlement, no reservation left behind.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { BadRequestError } from 'openai'
import type { RequestRecord } from '../../src/proxy/record'
import { basicConfig, CANARY, type TestGateway } from '../support/gateway'
import { costOf, GPT4O, startBreakingUpstream, startFixedUpstream, type ScriptedUpstream } from './upstream'
import { eventually, inflight, ledgerRows, openai, openaiProvider, spendGateway, windowOf } from './helpers'

const USAGE = { prompt: 20, completion: 100 }
let upstream: ScriptedUpstream
let broken: ReturnType<typeof Bun.serve>
let breaking: { url: string; stop(): void }
let gw: TestGateway
const records: RequestRecord[] = []

beforeAll(async () => {
  upstream = startFixedUpstream({ usage: USAGE })
  breaking = startBreakingUpstream()
  broken = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => Response.json({ error: { message: 'boom', type: 'server_error' } }, { status: 500 }) })
  const providers =
    openaiProvider(upstream.url) +
    `[[providers]]\nid = "injecting"\napi = "openai"\nbase_url = "${upstream.url}/v1"\napi_key = "sk-x"\ninject_cost = true\n` +
    `[[providers]]\nid = "broken"\napi = "openai"\nbase_url = "http://127.0.0.1:${broken.port}/v1"\napi_key = "sk-x"\n` +
    `[[providers]]\nid = "breaking"\napi = "openai"\nbase_url = "${breaking.url}/v1"\napi_key = "sk-x"\n` +
    `[[routes]]\nname = "fo"\ntargets = [{ provider = "broken", priority = 10 }, { provider = "openai", priority = 5 }]\n`
  const pricing = `[pricing]\nunknown_model = "reject"\n[[pricing.models]]\nmodel = "house-llm-*"\ninput_mtok = 1.0\noutput_mtok = 2.0\n`
  gw = await spendGateway(basicConfig(providers, pricing), { sinks: [{ record: (r) => void records.push(r) }] })
})
afterAll(async () => {
  await gw.stop()
  upstream.stop()
  broken.stop(true)
  breaking.stop()
})
beforeEach(() => {
  upstream.script = { usage: USAGE }
})

const client = () => openai(gw, CANARY.gatewayKey)
const settled = () => gw.gw.spendSteps.settlements

/** Waits for the request's settlement, then checks nothing is left reserved or in flight. */
async function settledOnce(before: number): Promise<RequestRecord> {
  await eventually(() => settled() === before + 1 && inflight(gw, 'key', 'test-key') === 0)
  await Bun.sleep(20)
  expect(settled()).toBe(before + 1)
  for (const [kind, id] of [['key', 'test-key'], ['user', 'alice'], ['project', 'default']] as const) {
    expect(windowOf(gw, kind, id).reserved).toBe(0)
    expect(inflight(gw, kind, id)).toBe(0)
  }
  const rows = await ledgerRows(gw)
  expect(rows.filter((r) => r.state === 'reserved')).toEqual([])
  return records.at(-1)!
}

/** The error a promise (or SDK APIPromise) rejects with; fails when it resolves. */
async function rejection(p: PromiseLike<unknown>): Promise<unknown> {
  const e = await Promise.resolve(p).then(
    () => undefined,
    (x: unknown) => x ?? new Error('rejected'),
  )
  expect(e).toBeDefined()
  return e
}

async function rowOf(id: string) {
  return (await ledgerRows(gw)).find((r) => r.id === id)!
}

describe('cost of a request', () => {
  test('a JSON answer carries x-tollgate-cost-usd and the record its cost', async () => {
    const before = settled()
    const { data, response } = await client().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).withResponse()
    expect(data.choices[0]!.message.content).toBe('Hello there!')
    const r = await settledOnce(before)
    expect(r.costNanos).toBe(costOf(USAGE))
    expect(response.headers.get('x-tollgate-cost-usd')).toBe(String(costOf(USAGE) / 1e9))
    expect((await rowOf(r.id)).state).toBe('settled')
  })

  test('inject_cost adds the cost to the body usage', async () => {
    const c = new (await import('openai')).default({ apiKey: CANARY.gatewayKey, baseURL: `${gw.url}/injecting`, maxRetries: 0 })
    const data = await c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
    expect((data.usage as unknown as { cost: number }).cost).toBe(costOf(USAGE) / 1e9)
    expect(data.usage!.prompt_tokens).toBe(USAGE.prompt)
  })

  test('an unknown model is refused before upstream, naming the model and how to price it', async () => {
    const calls = upstream.requests
    const e = await client().chat.completions.create({ model: 'mystery-model-9', messages: [{ role: 'user', content: 'hi' }] }).catch((x) => x)
    expect(e).toBeInstanceOf(BadRequestError)
    expect(e.message).toContain('"mystery-model-9"')
    expect(e.message).toContain('[[pricing.models]]')
    expect(e.message).toContain('unknown_model')
    expect(upstream.requests).toBe(calls)
  })

  test('[[pricing.models]] prices a model the data does not know', async () => {
    const before = settled()
    await client().chat.completions.create({ model: 'house-llm-7b', messages: [{ role: 'user', content: 'hi' }] })
    const r = await settledOnce(before)
    expect(r.costNanos).toBe(USAGE.prompt * 1000 + USAGE.completion * 2000)
  })
})

describe('requests that end early settle exactly once', () => {
  let inputOnly = 0
  test('client gone before the first byte: the input, estimated', async () => {
    upstream.script = { usage: USAGE, headerDelayMs: 300 }
    const before = settled()
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 50)
    const body = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'hi' }], stream: true as const }
    await rejection(client().chat.completions.create(body, { signal: ac.signal }))
    const r = await settledOnce(before)
    expect(r.error).toBe('client_disconnected')
    const row = await rowOf(r.id)
    expect(row.estimated).toBe(true)
    // Input only (one token per body byte), no output.
    expect(row.costNanos).toBeGreaterThan(0)
    expect(row.costNanos % GPT4O.input).toBe(0)
    expect(row.costNanos).toBeLessThan(row.reservedNanos)
    inputOnly = row.costNanos
  })

  test('client gone mid-stream: input plus the output delivered, estimated', async () => {
    upstream.script = { usage: USAGE, cutAfter: { chunks: 2, how: 'hang' } }
    const before = settled()
    const ac = new AbortController()
    const stream = await client().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true }, { signal: ac.signal })
    let n = 0
    await (async () => {
      for await (const _ of stream) if (++n === 2) ac.abort()
    })().catch(() => {})
    const r = await settledOnce(before)
    expect(r.error).toBe('client_disconnected')
    const row = await rowOf(r.id)
    expect(row.estimated).toBe(true)
    // The same body as above (same input estimate) plus the delivered words, far below the reserved maximum.
    expect(row.costNanos).toBeGreaterThan(inputOnly)
    expect((row.costNanos - inputOnly) % GPT4O.output).toBe(0)
    expect(row.costNanos).toBeLessThan(row.reservedNanos)
  })

  test('client gone after the usage arrived: the provider usage, exact', async () => {
    upstream.script = { usage: USAGE, hangAfterUsage: true }
    const before = settled()
    const ac = new AbortController()
    const stream = await client().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true }, { signal: ac.signal })
    await (async () => {
      for await (const chunk of stream) if (chunk.usage) ac.abort()
    })().catch(() => {})
    const r = await settledOnce(before)
    expect(r.error).toBe('client_disconnected')
    expect(r.costNanos).toBe(costOf(USAGE))
    expect((await rowOf(r.id)).estimated).toBe(false)
  })

  test('upstream breaks mid-stream: an error event ends the stream, the delivered part is charged', async () => {
    const before = settled()
    const c = new (await import('openai')).default({ apiKey: CANARY.gatewayKey, baseURL: `${gw.url}/breaking`, maxRetries: 0 })
    const stream = await c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true })
    await rejection(
      (async () => {
        for await (const _ of stream) {
          // read until the error event
        }
      })(),
    )
    const r = await settledOnce(before)
    expect(r.error).toBe('upstream_error')
    const row = await rowOf(r.id)
    expect(row.estimated).toBe(true)
    expect(row.costNanos).toBeGreaterThan(0)
  })

  test('failover: the failed attempt bills nothing, the request settles once at the answer', async () => {
    const before = settled()
    const c = new (await import('openai')).default({ apiKey: CANARY.gatewayKey, baseURL: `${gw.url}/fo`, maxRetries: 0 })
    await c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
    const r = await settledOnce(before)
    expect(r.attempts?.map((a) => a.status)).toEqual([500, 200])
    expect(r.costNanos).toBe(costOf(USAGE))
    const rows = (await ledgerRows(gw)).filter((x) => x.requestId === r.id)
    expect(rows.map((x) => [x.id, x.provider, x.costNanos])).toEqual([[r.id, 'openai', costOf(USAGE)]])
  })

  test('an upstream error answer releases the reservation', async () => {
    const before = settled()
    const c = new (await import('openai')).default({ apiKey: CANARY.gatewayKey, baseURL: `${gw.url}/broken`, maxRetries: 0 })
    await rejection(c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }))
    const r = await settledOnce(before)
    expect(r.costNanos).toBe(0)
    expect((await rowOf(r.id)).state).toBe('released')
  })
})
