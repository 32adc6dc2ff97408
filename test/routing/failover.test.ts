/**
 * Routing groups end to end: the official SDKs against a group whose targets refuse
 * connections, answer 429/500/529, stall or reset, and whose healthy target replays a real
 * recording. Failover happens only before the first byte; the client never sees content twice;
 * every attempt is logged and reported to the hooks; breakers open and close on an injected clock.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import type { RequestSink } from '../../src/proxy/record'
import type { AttemptRecord } from '../../src/proxy/record'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette, type Interaction } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'
import { closedPortUrl, startFaultUpstream, type FaultUpstream } from '../support/fault-upstream'
import { sseJson } from '../support/sse'

let good: ReplayUpstream
let flaky: FaultUpstream
let shaky: FaultUpstream
let gateway: TestGateway
let oai: OpenAI
let claude: Anthropic
let chatStream: Interaction
let messagesJson: Interaction
let messagesStream: Interaction
/** Every sent attempt of every finished request, as the observers see it. */
const hookCalls: { provider: string; n: number; outcome: { status: number; error?: string; failedOver: boolean } }[] = []
let clock = 1_000_000

const observer: RequestSink = {
  record(_r, x) {
    for (const a of x.attempts ?? []) if (a.url !== undefined) hookCalls.push({ provider: a.provider.id, n: a.n, outcome: { status: a.status, error: a.error, failedOver: a.failedOver } })
  },
}

/** Waits (up to 2 s) until some request has been recorded; a stream's record follows the client's last byte. */
async function recorded(): Promise<void> {
  const deadline = Date.now() + 2000
  while (!hookCalls.length && Date.now() < deadline) await Bun.sleep(5)
}

const provider = (id: string, api: string, url: string, key: string, extra = '') =>
  `[[providers]]\nid = "${id}"\napi = "${api}"\nbase_url = "${url}"\napi_key = "${key}"\n${extra}`
// Short timeouts so stalls end quickly; a tight breaker so it opens within a test.
const breaker = 'circuit_breaker = { failures = 2, cooldown_ms = 30000 }'
const fast = `timeouts = { first_byte_ms = 300, idle_ms = 300, total_ms = 3000 }\n${breaker}`
// an-flaky stalls only before its first byte; mid-stream it resets once the test's client has the
// events, which on a loaded machine can take longer than a 300 ms idle timeout.
const fastStart = `timeouts = { first_byte_ms = 300, idle_ms = 10000, total_ms = 20000 }\n${breaker}`
// The healthy targets are never meant to time out, however slow the machine.
const steady = `timeouts = { first_byte_ms = 10000, idle_ms = 10000, total_ms = 20000 }\n${breaker}`

beforeAll(async () => {
  chatStream = (await loadCassette('openai', 'test_run_stream_sync_streams_real_model')).interactions.find((i) => i.contentType.includes('event-stream'))!
  messagesJson = (await loadCassette('anthropic', 'test_anthropic_model_instructions')).interactions[0]!
  messagesStream = (await loadCassette('anthropic', 'test_anthropic_model_thinking_part_redacted_stream')).interactions[0]!
  good = startReplayUpstream([chatStream, messagesJson, messagesStream])
  flaky = await startFaultUpstream()
  shaky = await startFaultUpstream()
  const refused = await closedPortUrl()
  const o = CANARY.openaiKey
  const a = CANARY.anthropicKey
  gateway = await startGateway(
    basicConfig(
      [
        provider('oa-down', 'openai', `${refused}/v1`, o, fast),
        provider('oa-flaky', 'openai', `${flaky.url}/v1`, o, fast),
        provider('oa-good', 'openai', `${good.url}/v1`, o, steady),
        provider('an-flaky', 'anthropic', flaky.url, a, fastStart),
        provider('an-shaky', 'anthropic', shaky.url, a, fast),
        provider('an-good', 'anthropic', good.url, a, steady),
        `[[routes]]\nname = "gpt"\ntargets = [{ provider = "oa-down", priority = 3 }, { provider = "oa-flaky", priority = 2 }, { provider = "oa-good", priority = 1 }]`,
        `[[routes]]\nname = "gpt-flaky-last"\ntargets = [{ provider = "oa-down", priority = 2 }, { provider = "oa-flaky", priority = 1 }]`,
        `[[routes]]\nname = "claude"\ntargets = [{ provider = "an-flaky", priority = 3 }, { provider = "an-shaky", priority = 2 }, { provider = "an-good", priority = 1 }]`,
        `[[routes]]\nname = "claude-nowhere"\ntargets = [{ provider = "an-flaky", priority = 2 }, { provider = "an-shaky", priority = 1 }]`,
      ].join('\n\n'),
      `
[[keys]]
id = "good-only"
project = "default"
key = "tg-test-good-only"
providers = ["oa-good"]

[[keys]]
id = "none-of-gpt"
project = "default"
key = "tg-test-none-of-gpt"
providers = ["an-good"]
`,
    ),
    { sinks: [observer], now: () => clock },
  )
  oai = new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/gpt`, maxRetries: 0 })
  claude = new Anthropic({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/claude`, maxRetries: 0 })
})
afterAll(async () => {
  await gateway.stop()
  good.stop()
  await flaky.stop()
  await shaky.stop()
})
beforeEach(() => {
  hookCalls.length = 0
  good.use([chatStream, messagesJson, messagesStream])
  flaky.reset()
  shaky.reset()
  // A fresh clock far from the last test's: every breaker has cooled down; a probe closes it.
  clock += 3_600_000
})

async function logged(id: string): Promise<{ status: number; provider: string; error: string | null; attempts: AttemptRecord[] }> {
  await gateway.gw.requestLog.flush()
  const row = (await gateway.gw.database.client.execute({ sql: 'SELECT status, provider, error, attempts FROM request_log WHERE id = ?', args: [id] })).rows[0]!
  return { status: row.status as number, provider: row.provider as string, error: row.error as string | null, attempts: JSON.parse(row.attempts as string) }
}

/** A response body as text; `seen` is told the text so far after every chunk. */
async function readAll(res: Response, seen: (sofar: string) => unknown): Promise<string> {
  const decoder = new TextDecoder()
  let text = ''
  for await (const chunk of res.body!) {
    text += decoder.decode(chunk, { stream: true })
    seen(text)
  }
  return text + decoder.decode()
}

const brief = (as: AttemptRecord[]) => as.map(({ provider, status, error, failedOver }) => ({ provider, status, error, failedOver }))

/** A success through each Anthropic fault upstream, so their breakers start closed with no failures counted. */
async function heal(): Promise<void> {
  for (const [id, up] of [['an-flaky', flaky], ['an-shaky', shaky]] as const) {
    up.script({ replay: messagesJson })
    const c = new Anthropic({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/${id}`, maxRetries: 0 })
    await c.beta.messages.create(messagesJson.requestBody as Anthropic.Beta.MessageCreateParamsNonStreaming)
  }
  forgetReceived()
}

function forgetReceived(): void {
  flaky.received.length = 0
  shaky.received.length = 0
  hookCalls.length = 0
}

describe('failover before the first byte', () => {
  test('openai stream: refused → 500 → recorded stream; the SDK gets exactly the recording', async () => {
    flaky.script({ status: 500, body: { error: { message: 'boom', type: 'server_error', param: null, code: null } } })
    const { data: stream, response } = await oai.chat.completions.create(chatStream.requestBody as OpenAI.ChatCompletionCreateParamsStreaming).withResponse()
    const chunks: unknown[] = []
    for await (const c of stream) chunks.push(c)
    expect(chunks).toEqual(sseJson(chatStream.responseBody))
    expect(good.received).toHaveLength(1)
    expect(flaky.received).toHaveLength(1)

    const row = await logged(response.headers.get('x-tollgate-request-id')!)
    expect(row.status).toBe(200)
    expect(row.provider).toBe('oa-good')
    expect(brief(row.attempts)).toEqual([
      { provider: 'oa-down', status: 0, error: 'connect', failedOver: true },
      { provider: 'oa-flaky', status: 500, error: 'upstream_500', failedOver: true },
      { provider: 'oa-good', status: 200, error: undefined, failedOver: false },
    ])
    expect(hookCalls.map((c) => [c.provider, c.n, c.outcome.failedOver, c.outcome.status])).toEqual([
      ['oa-down', 1, true, 0],
      ['oa-flaky', 2, true, 500],
      ['oa-good', 3, false, 200],
    ])
  })

  test('anthropic JSON: 529 → 429 → recorded message; the SDK result equals the recording', async () => {
    flaky.script({ status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } })
    shaky.script({ status: 429, body: { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }, headers: { 'retry-after': '7' } })
    const { data, response } = await claude.beta.messages.create(messagesJson.requestBody as Anthropic.Beta.MessageCreateParamsNonStreaming).withResponse()
    expect(data as unknown).toEqual(messagesJson.responseJson)
    const row = await logged(response.headers.get('x-tollgate-request-id')!)
    expect(brief(row.attempts)).toEqual([
      { provider: 'an-flaky', status: 529, error: 'upstream_529', failedOver: true },
      { provider: 'an-shaky', status: 429, error: 'upstream_429', failedOver: true },
      { provider: 'an-good', status: 200, error: undefined, failedOver: false },
    ])
    // Each target got the same body, with its own credential.
    expect(JSON.parse(flaky.received[0]!.body)).toEqual(messagesJson.requestBody)
    expect(flaky.received[0]!.headers['x-api-key']).toBe(CANARY.anthropicKey)
  })

  test('a stall before the first byte (headers sent or not) fails over on first_byte_ms', async () => {
    flaky.script({ stall: 'body' })
    shaky.script({ stall: 'headers' })
    const { data: stream, response } = await claude.beta.messages.create(messagesStream.requestBody as Anthropic.Beta.MessageCreateParamsStreaming).withResponse()
    const events: unknown[] = []
    for await (const e of stream) events.push(e)
    expect(events).toEqual(sseJson(messagesStream.responseBody, ['ping']))
    const row = await logged(response.headers.get('x-tollgate-request-id')!)
    expect(brief(row.attempts)).toEqual([
      // Headers arrived from one (status 200), none from the other; no body byte from either.
      { provider: 'an-flaky', status: 200, error: 'first_byte_timeout', failedOver: true },
      { provider: 'an-shaky', status: 0, error: 'first_byte_timeout', failedOver: true },
      { provider: 'an-good', status: 200, error: undefined, failedOver: false },
    ])
  })

  test('a reset before any event fails over', async () => {
    flaky.script({ replay: messagesStream, resetAfter: 0 })
    shaky.script({ status: 500, body: { type: 'error', error: { type: 'api_error', message: 'x' } } })
    const { data: stream, response } = await claude.beta.messages.create(messagesStream.requestBody as Anthropic.Beta.MessageCreateParamsStreaming).withResponse()
    const events: unknown[] = []
    for await (const e of stream) events.push(e)
    expect(events).toEqual(sseJson(messagesStream.responseBody, ['ping']))
    const row = await logged(response.headers.get('x-tollgate-request-id')!)
    expect(row.attempts.map((a) => a.error)).toEqual(['upstream_reset', 'upstream_500', undefined])
  })
})

describe('never after the first byte', () => {
  test('a reset after some events: no failover, no duplicate content, a native error event ends the stream', async () => {
    const recorded = new TextDecoder().decode(messagesStream.responseBody).split(/(?<=\n\n)/)
    const cut = Promise.withResolvers<void>()
    flaky.script({ replay: messagesStream, resetAfter: 3, resetWhen: cut.promise })
    const res = await fetch(`${gateway.url}/claude/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': CANARY.gatewayKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify(messagesStream.requestBody),
    })
    expect(res.status).toBe(200)
    // The reset comes once the client holds the three events (so the gateway read them all).
    const text = await readAll(res, (sofar) => sofar.length >= recorded.slice(0, 3).join('').length && cut.resolve())
    // The first three recorded events, byte for byte, then one Anthropic error event; nothing else.
    expect(text.startsWith(recorded.slice(0, 3).join(''))).toBe(true)
    const rest = text.slice(recorded.slice(0, 3).join('').length)
    expect(rest).toMatch(/^event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"[^"]+"\}\}\n\n$/)
    expect(good.received).toHaveLength(0)
    expect(shaky.received).toHaveLength(0)
    const row = await logged(res.headers.get('x-tollgate-request-id')!)
    expect(row.error).toBe('upstream_error')
    expect(brief(row.attempts)).toEqual([{ provider: 'an-flaky', status: 200, error: 'upstream_error', failedOver: false }])
  })

  test('the Anthropic SDK sees that cut stream as an error, after the events it already got', async () => {
    const want = sseJson(new TextDecoder().decode(messagesStream.responseBody).split(/(?<=\n\n)/).slice(0, 3).join(''), ['ping'])
    const cut = Promise.withResolvers<void>()
    flaky.script({ replay: messagesStream, resetAfter: 3, resetWhen: cut.promise })
    const stream = await claude.beta.messages.create(messagesStream.requestBody as Anthropic.Beta.MessageCreateParamsStreaming)
    const events: unknown[] = []
    const err = await (async () => {
      for await (const e of stream) if (events.push(e) >= want.length) cut.resolve()
    })().catch((e) => e)
    expect(err).toBeInstanceOf(Anthropic.APIError)
    expect(events).toEqual(want)
  })

  test('a stall mid-stream ends with the native error event (OpenAI SDK raises it)', async () => {
    flaky.script({ replay: chatStream, stallAfter: 2 })
    const stream = await oai.chat.completions.create(chatStream.requestBody as OpenAI.ChatCompletionCreateParamsStreaming)
    const chunks: unknown[] = []
    const err = await (async () => {
      for await (const c of stream) chunks.push(c)
    })().catch((e) => e)
    expect(err).toBeInstanceOf(OpenAI.APIError)
    expect(String(err.message)).toContain('stalled')
    expect(chunks).toEqual(sseJson(new TextDecoder().decode(chatStream.responseBody).split(/(?<=\n\n)/).slice(0, 2).join('')))
    expect(good.received).toHaveLength(0)
    // The gateway hung up on the stalled upstream.
    const deadline = Date.now() + 2000
    while (flaky.abandoned === 0 && Date.now() < deadline) await Bun.sleep(10)
    expect(flaky.abandoned).toBeGreaterThan(0)
  })
})

describe('when every target fails', () => {
  test('the last upstream error reaches the SDK as it was (status, headers, body)', async () => {
    const body = { error: { message: 'Rate limit reached for gpt-4o-mini', type: 'requests', param: null, code: 'rate_limit_exceeded' } }
    flaky.script({ status: 429, body, headers: { 'retry-after': '20', 'x-ratelimit-remaining-requests': '0' } })
    const client = new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/gpt-flaky-last`, maxRetries: 0 })
    const err = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
    expect(err).toBeInstanceOf(OpenAI.RateLimitError)
    expect(err.status).toBe(429)
    expect(err.error).toEqual(body.error)
    expect(err.headers.get('retry-after')).toBe('20')
    expect(err.headers.get('x-ratelimit-remaining-requests')).toBe('0')
  })

  test('a gateway 502 in the native shape when no target answered', async () => {
    flaky.script({ stall: 'headers' })
    shaky.script({ replay: messagesStream, resetAfter: 0 })
    const client = new Anthropic({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/claude-nowhere`, maxRetries: 0 })
    const err = await client.messages.create({ ...(messagesStream.requestBody as Anthropic.MessageCreateParamsStreaming) }).catch((e) => e)
    expect(err).toBeInstanceOf(Anthropic.InternalServerError)
    expect(err.status).toBe(502)
    expect(err.error.type).toBe('error')
    expect(err.error.error.type).toBe('api_error')
    expect(err.error.error.message).toContain('an-flaky, an-shaky')
  })

  test('a 504 when every target timed out', async () => {
    flaky.script({ stall: 'body' })
    shaky.script({ stall: 'body' })
    const client = new Anthropic({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/claude-nowhere`, maxRetries: 0 })
    const err = await client.messages.create(messagesStream.requestBody as Anthropic.MessageCreateParamsStreaming).catch((e) => e)
    expect(err).toBeInstanceOf(Anthropic.APIError)
    expect(err.status).toBe(504)
    expect(err.error.error.message).toContain('answered in time')
  })
})

describe('client disconnect', () => {
  test('while a target stalls before its first byte: the upstream is aborted within 1 s, no other target is tried', async () => {
    flaky.script({ stall: 'body' })
    const ac = new AbortController()
    const pending = fetch(`${gateway.url}/claude/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': CANARY.gatewayKey, 'content-type': 'application/json' },
      body: JSON.stringify(messagesStream.requestBody),
      signal: ac.signal,
    }).catch(() => 'aborted')
    while (flaky.received.length === 0) await Bun.sleep(5)
    ac.abort()
    expect(await pending).toBe('aborted')
    const deadline = Date.now() + 1000
    while (flaky.abandoned === 0 && Date.now() < deadline) await Bun.sleep(5)
    expect(flaky.abandoned).toBe(1)
    expect(shaky.received).toHaveLength(0)
    expect(good.received).toHaveLength(0)
    await recorded()
    expect(hookCalls.map((c) => [c.provider, c.outcome.error, c.outcome.failedOver])).toEqual([['an-flaky', 'client_disconnected', false]])
  })
})

describe('allow-lists', () => {
  test("targets outside the key's allow-list are skipped, never contacted", async () => {
    const client = new OpenAI({ apiKey: 'tg-test-good-only', baseURL: `${gateway.url}/gpt`, maxRetries: 0 })
    const stream = await client.chat.completions.create(chatStream.requestBody as OpenAI.ChatCompletionCreateParamsStreaming)
    for await (const _ of stream) void _
    expect(flaky.received).toHaveLength(0)
    await recorded()
    expect(hookCalls.map((c) => c.provider)).toEqual(['oa-good'])
  })

  test('403 in the native shape when no target is allowed', async () => {
    const client = new OpenAI({ apiKey: 'tg-test-none-of-gpt', baseURL: `${gateway.url}/gpt`, maxRetries: 0 })
    const err = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [] }).catch((e) => e)
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError)
    expect(err.error.code).toBe('provider_not_allowed')
    expect(hookCalls).toHaveLength(0)
  })
})

describe('circuit breaker', () => {
  test('opens after N failures in a row, skips the provider, probes once after the cool-down, closes on success', async () => {
    await heal()
    const flakyBreaker = () => gateway.gw.proxy.breakers.snapshot().find((b) => b.provider === 'an-flaky')!
    const ask = async () => {
      const { response } = await claude.beta.messages.create(messagesJson.requestBody as Anthropic.Beta.MessageCreateParamsNonStreaming).withResponse()
      return (await logged(response.headers.get('x-tollgate-request-id')!)).attempts.map((a) => a.provider)
    }
    const overloaded = { status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }
    flaky.script(overloaded, overloaded)
    shaky.otherwise = { replay: messagesJson }
    try {
      expect(await ask()).toEqual(['an-flaky', 'an-shaky'])
      expect(flakyBreaker().state).toBe('closed')
      expect(await ask()).toEqual(['an-flaky', 'an-shaky'])
      expect(flakyBreaker()).toMatchObject({ state: 'open', consecutiveFailures: 2, retryAt: clock + 30_000 })
      // Open: skipped without a connection.
      const before = flaky.received.length
      expect(await ask()).toEqual(['an-shaky'])
      expect(flaky.received.length).toBe(before)
      // Cool-down over: one probe; it succeeds and closes the breaker.
      clock += 30_000
      expect(flakyBreaker().state).toBe('half_open')
      flaky.script({ replay: messagesJson })
      expect(await ask()).toEqual(['an-flaky'])
      expect(flakyBreaker()).toMatchObject({ state: 'closed', consecutiveFailures: 0 })
    } finally {
      shaky.otherwise = { status: 500, body: { error: 'unscripted' } }
    }
  })

  test('a single-provider route answers 503 circuit_open with retry-after while open', async () => {
    await heal()
    const overloaded = { status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }
    flaky.script(overloaded, overloaded)
    const client = new Anthropic({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/an-flaky`, maxRetries: 0 })
    const ask = () => client.messages.create(messagesJson.requestBody as Anthropic.MessageCreateParamsNonStreaming).catch((e) => e)
    expect((await ask()).status).toBe(529)
    expect((await ask()).status).toBe(529)
    const before = flaky.received.length
    const err = await ask()
    expect(err).toBeInstanceOf(Anthropic.APIError)
    expect(err.status).toBe(503)
    expect(err.error.error.type).toBe('overloaded_error')
    expect(err.headers.get('retry-after')).toBe('30')
    expect(flaky.received.length).toBe(before)
  })
})
