/**
 * Rate limits on the pipeline of one process (in-memory limiter): native 429s that SDKs may
 * retry (honest retry-after, x-should-retry: true) in every provider's format, key/user/project
 * scopes, tpm settled from the recorded usage, slots released when a later hook refuses, and
 * the CLI's --rpm/--tpm/--concurrency.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { cli } from '../support/cli'
import { CANARY, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette, type Interaction } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'

const K = (name: string) => `tg-test-ratelimit-${name}-0000000000000000000000`

let upstream: ReplayUpstream
let gw: TestGateway
let chat: Interaction
let message: Interaction

function config(url: string): string {
  // The unknown-model test needs a refusal after admission on unlimited keys: "reject", no longer the default.
  return `
[pricing]
unknown_model = "reject"

[[providers]]
id = "openai"
api = "openai"
base_url = "${url}/v1"
api_key = "${CANARY.openaiKey}"

[[providers]]
id = "anthropic"
api = "anthropic"
base_url = "${url}"
api_key = "${CANARY.anthropicKey}"

[[providers]]
id = "gemini"
api = "gemini"
base_url = "${url}"
api_key = "AIza-test-CANARY-gemini-00000000000000000001"

[[providers]]
id = "bedrock"
api = "bedrock"
base_url = "${url}"
region = "us-east-1"
api_key = "ABSK-test-CANARY-bedrock-api-key-00000001"

[[projects]]
id = "p"

[[projects]]
id = "busy"
rate_limits = { rpm = 3 }

[[users]]
id = "u"
projects = ["p"]
rate_limits = { rpm = 2 }

[[keys]]
id = "openai-1rpm"
project = "p"
key = "${K('openai')}"
rate_limits = { rpm = 1 }

[[keys]]
id = "anthropic-1rpm"
project = "p"
key = "${K('anthropic')}"
rate_limits = { rpm = 1 }

[[keys]]
id = "gemini-1rpm"
project = "p"
key = "${K('gemini')}"
rate_limits = { rpm = 1 }

[[keys]]
id = "bedrock-1rpm"
project = "p"
key = "${K('bedrock')}"
rate_limits = { rpm = 1 }

[[keys]]
id = "u-a"
project = "p"
user = "u"
key = "${K('ua')}"

[[keys]]
id = "u-b"
project = "p"
user = "u"
key = "${K('ub')}"

[[keys]]
id = "busy-a"
project = "busy"
key = "${K('busya')}"

[[keys]]
id = "busy-b"
project = "busy"
key = "${K('busyb')}"

[[keys]]
id = "tokens"
project = "p"
key = "${K('tokens')}"
rate_limits = { tpm = 400 }

[[keys]]
id = "one-at-a-time"
project = "p"
key = "${K('single')}"
rate_limits = { concurrency = 1 }
`
}

beforeAll(async () => {
  chat = (await loadCassette('openai', 'test_max_completion_tokens[gpt-4o-mini]')).interactions[0]!
  message = (await loadCassette('anthropic', 'test_anthropic_model_instructions')).interactions[0]!
  upstream = startReplayUpstream([chat, message])
  gw = await startGateway(config(upstream.url), { logOutput: { write: async () => {} } })
})
afterAll(async () => {
  await gw.stop()
  upstream.stop()
})

const openai = (key: string) => new OpenAI({ apiKey: key, baseURL: `${gw.url}/openai`, maxRetries: 0 })
const body = () => chat.requestBody as OpenAI.ChatCompletionCreateParamsNonStreaming

function expectRetryable(h: Headers | Record<string, string | null | undefined>) {
  const get = (k: string) => (h instanceof Headers ? h.get(k) : h[k])
  expect(get('x-should-retry')).toBe('true')
  const after = Number(get('retry-after'))
  // rpm: the one request of the minute leaves it in (almost) 60 s.
  expect(after).toBeGreaterThanOrEqual(55)
  expect(after).toBeLessThanOrEqual(60)
  expect(Number(get('retry-after-ms'))).toBeLessThanOrEqual(60_000)
}

describe('native 429 over a rate limit', () => {
  test('OpenAI SDK: RateLimitError rate_limit_exceeded, never reaching the upstream', async () => {
    const c = openai(K('openai'))
    expect(await c.chat.completions.create(body())).toEqual(chat.responseJson as OpenAI.ChatCompletion)
    const before = upstream.received.length
    const err = await c.chat.completions.create(body()).catch((e) => e)
    expect(err).toBeInstanceOf(OpenAI.RateLimitError)
    expect(err.status).toBe(429)
    expect(err.error).toMatchObject({ type: 'rate_limit_exceeded', code: 'rate_limit_exceeded' })
    expect(err.message).toContain('key "openai-1rpm"')
    expect(err.message).toContain('1 request(s) per minute (rpm)')
    expectRetryable(err.headers)
    expect(upstream.received.length).toBe(before)
  })

  test('Anthropic SDK: RateLimitError rate_limit_error', async () => {
    const c = new Anthropic({ apiKey: K('anthropic'), baseURL: `${gw.url}/anthropic`, maxRetries: 0 })
    const params = message.requestBody as Anthropic.Beta.MessageCreateParamsNonStreaming
    expect(await c.beta.messages.create(params)).toEqual(message.responseJson as never)
    const err = await c.beta.messages.create(params).catch((e) => e)
    expect(err).toBeInstanceOf(Anthropic.RateLimitError)
    expect(err.status).toBe(429)
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } })
    expectRetryable(err.headers)
  })

  test('Google: 429 RESOURCE_EXHAUSTED', async () => {
    const send = () =>
      fetch(`${gw.url}/gemini/v1beta/models/gemini-2.0-flash:generateContent`, {
        method: 'POST',
        headers: { 'x-goog-api-key': K('gemini'), 'content-type': 'application/json' },
        body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
      })
    await (await send()).arrayBuffer()
    const res = await send()
    expect(res.status).toBe(429)
    expect(await res.json()).toMatchObject({ error: { code: 429, status: 'RESOURCE_EXHAUSTED' } })
    expectRetryable(res.headers)
  })

  test('Bedrock: 429 ThrottlingException', async () => {
    const send = () =>
      fetch(`${gw.url}/bedrock/model/amazon.nova-micro-v1%3A0/converse`, {
        method: 'POST',
        headers: { authorization: `Bearer ${K('bedrock')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
      })
    await (await send()).arrayBuffer()
    const res = await send()
    expect(res.status).toBe(429)
    expect(res.headers.get('x-amzn-errortype')).toBe('ThrottlingException')
    expect(((await res.json()) as { message: string }).message).toContain('rpm')
    expectRetryable(res.headers)
  })
})

describe('scopes', () => {
  test("a user's limit holds across its keys, and names the user", async () => {
    const [a, b] = [openai(K('ua')), openai(K('ub'))]
    await a.chat.completions.create(body())
    await b.chat.completions.create(body())
    const err = await a.chat.completions.create(body()).catch((e) => e)
    expect(err.status).toBe(429)
    expect(err.message).toContain('user "u"')
  })

  test("a project's limit holds across its keys, and names the project", async () => {
    const rs = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => openai(K(i % 2 ? 'busya' : 'busyb')).chat.completions.create(body())))
    expect(rs.filter((r) => r.status === 'fulfilled').length).toBe(3)
    const refused = rs.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    expect(refused.every((r) => r.reason.status === 429 && r.reason.message.includes('project "busy"'))).toBe(true)
  })
})

test('tpm reserves the bound (input + max tokens) and settles to the reported usage', async () => {
  // Each request reserves ~123 + 100 tokens against 400 a minute and uses ~20 (the recording's
  // usage): five in a row fit only because each is settled to its usage.
  const c = openai(K('tokens'))
  for (let i = 0; i < 5; i++) expect((await c.chat.completions.create(body())).usage?.total_tokens).toBeGreaterThan(0)
  // Two at once: the first reservation leaves no room for the second while it is in flight.
  const rs = await Promise.allSettled([c.chat.completions.create({ ...body(), max_completion_tokens: 300 }), c.chat.completions.create({ ...body(), max_completion_tokens: 300 })])
  expect(rs.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.error.type)).toEqual(['rate_limit_exceeded'])
})

test('a request refused after admission (unknown model price) frees its concurrency slot', async () => {
  const send = (model: string) =>
    fetch(`${gw.url}/openai/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${K('single')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...body(), model }),
    })
  for (let i = 0; i < 3; i++) {
    const r = await send('no-such-model-anywhere')
    expect(r.status).toBe(400)
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('unknown_model_price')
  }
  const ok = await send('gpt-4o-mini')
  expect(ok.status).toBe(200)
})

test('tollgate keys create --rpm/--tpm/--concurrency stores the limits, and the key is held by them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-rl-cli-'))
  try {
    const path = join(dir, 'config.toml')
    writeFileSync(path, `${config(upstream.url)}\n[database]\nurl = "file:${join(dir, 'db.sqlite')}"\n`)
    const bad = await cli(['keys', 'create', '--config', path, '--project', 'p', '--rpm', '0'])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('--rpm must be a whole number')
    const made = await cli(['keys', 'create', '--config', path, '--project', 'p', '--rpm', '1', '--tpm', '5000', '--concurrency', '4'])
    expect(made.code).toBe(0)
    const secret = made.stdout.trim()
    const loaded = await import('../../src/config/load').then((m) => m.loadConfigFile(path))
    const g = await import('../../src/gateway').then((m) => m.createGateway(loaded, { logOutput: { write: async () => {} }, announce: () => {} }))
    try {
      const found = await g.keys.lookup(secret)
      expect(found.ok && found.key.rateLimits).toEqual({ rpm: 1, tpm: 5000, concurrency: 4 })
    } finally {
      await g.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
