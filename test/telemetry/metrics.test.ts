/**
 * `/metrics` after real traffic (official OpenAI SDK over recordings, refused keys, an unknown
 * route, a limit refusal): counts, histograms, tokens and cost agree with what the gateway
 * recorded; gauges settle back to zero; labels carry no key or request ids and stay bounded;
 * a bearer token and a separate listener work.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import type { RequestRecord } from '../../src/proxy/record'
import { LabelGuard } from '../../src/telemetry/labels'
import { Redactor } from '../../src/telemetry/redact'
import { CANARY, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette, type Interaction } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'
import { labelValues, sample } from './prom-text'

const BROKE_KEY = 'tg-test-CANARY-broke-project-key-00000001'
const NARROW_KEY = 'tg-test-CANARY-narrow-models-key-00000001'
let chatJson: Interaction
let chatStream: Interaction
let upstream: ReplayUpstream

beforeAll(async () => {
  chatJson = (await loadCassette('openai', 'test_max_completion_tokens[gpt-4o-mini]')).interactions[0]!
  chatStream = (await loadCassette('openai', 'test_openai_moderation_stream')).interactions.find((x) => x.contentType.includes('event-stream'))!
  upstream = startReplayUpstream([chatJson, chatStream])
})
afterAll(() => upstream.stop())

const config = (extra: string) => `
[[providers]]
id = "openai"
api = "openai"
base_url = "${upstream.url}/v1"
api_key = "${CANARY.openaiKey}"

[logging]
level = "off"

[pricing]
unknown_model = "allow"

[[projects]]
id = "default"

[[projects]]
id = "broke"
limits = { daily = 0 }

[[keys]]
id = "test-key"
project = "default"
key = "${CANARY.gatewayKey}"

[[keys]]
id = "broke-key"
project = "broke"
key = "${BROKE_KEY}"

[[keys]]
id = "narrow-key"
project = "default"
key = "${NARROW_KEY}"
models = ["gpt-4o-mini"]
${extra}`

describe('metrics on the main listener', () => {
  let gateway: TestGateway
  const records: RequestRecord[] = []

  beforeAll(async () => {
    gateway = await startGateway(config(''), { sinks: [{ record: (r) => void records.push(r) }] })
  })
  afterAll(() => gateway.stop())

  test('requests, durations, tokens, cost, refusals and gauges', async () => {
    const client = new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/openai`, maxRetries: 0 })
    for (let i = 0; i < 3; i++) await client.chat.completions.create(chatJson.requestBody as OpenAI.ChatCompletionCreateParamsNonStreaming)
    for (let i = 0; i < 2; i++) for await (const _ of await client.chat.completions.create(chatStream.requestBody as OpenAI.ChatCompletionCreateParamsStreaming)) void _
    // Refused before any upstream: a wrong key, an unknown route, a spent-out project.
    const wrong = await fetch(`${gateway.url}/openai/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer tg-wrong-key-0000000000000000' }, body: '{}' })
    expect(wrong.status).toBe(401)
    const unknown = await fetch(`${gateway.url}/no-such-route-${crypto.randomUUID()}/x`, { method: 'POST', headers: { authorization: `Bearer ${CANARY.gatewayKey}` }, body: '{}' })
    expect(unknown.status).toBe(404)
    const broke = new OpenAI({ apiKey: BROKE_KEY, baseURL: `${gateway.url}/openai`, maxRetries: 0 })
    // A zero daily limit: the spend hook refuses (it may let one through while nothing else is in flight).
    for (let i = 0; i < 3; i++) await broke.chat.completions.create(chatJson.requestBody as OpenAI.ChatCompletionCreateParamsNonStreaming).catch(() => undefined)
    const refused = records.filter((r) => r.error === 'spend_limit_reached').length
    expect(refused).toBeGreaterThan(0)

    const res = await fetch(`${gateway.url}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/plain')
    const text = await res.text()
    const ok = records.filter((r) => r.status === 200 && r.project === 'default')
    expect(ok).toHaveLength(5)

    const jsonModel = (chatJson.responseJson as { model: string }).model
    expect(sample(text, 'tollgate_requests_total', { provider: 'openai', route: 'openai', model: jsonModel, status_class: '2xx', project: 'default' })).toBe(3)
    expect(sample(text, 'tollgate_requests_total', { status_class: '2xx', project: 'default' })).toBe(5)
    expect(sample(text, 'tollgate_requests_total', { status_class: '4xx', project: 'none' })).toBe(1)
    expect(sample(text, 'tollgate_requests_total', { route: 'unknown', status_class: '4xx' })).toBe(1)
    expect(sample(text, 'tollgate_requests_total', { project: 'broke', status_class: '4xx' })).toBe(refused)
    expect(sample(text, 'tollgate_requests_total')).toBe(records.length)
    expect(sample(text, 'tollgate_limit_rejections_total')).toBe(refused)
    expect(labelValues(text, 'tollgate_limit_rejections_total', 'scope')[0]).toMatch(/^(project|unknown)$/)

    expect(sample(text, 'tollgate_request_duration_seconds_count')).toBe(records.length)
    expect(sample(text, 'tollgate_time_to_first_byte_seconds_count', { stream: 'true' })).toBe(2)
    expect(sample(text, 'tollgate_gateway_overhead_seconds_count')).toBe(records.filter((r) => r.attempts?.length).length)
    // The gateway's own share can never exceed the whole.
    expect(sample(text, 'tollgate_gateway_overhead_seconds_sum')).toBeLessThanOrEqual(sample(text, 'tollgate_request_duration_seconds_sum'))

    const sum = (f: (r: RequestRecord) => number | undefined) => records.filter((r) => r.project === 'default').reduce((n, r) => n + (f(r) ?? 0), 0)
    expect(sample(text, 'tollgate_tokens_total', { type: 'input', project: 'default' })).toBe(sum((r) => r.usage?.tokens.input_tokens))
    expect(sample(text, 'tollgate_tokens_total', { type: 'output', project: 'default' })).toBe(sum((r) => r.usage?.tokens.output_tokens))
    const cost = sum((r) => r.costNanos) / 1e9
    expect(cost).toBeGreaterThan(0)
    expect(sample(text, 'tollgate_cost_usd_total', { project: 'default', provider: 'openai' })).toBeCloseTo(cost, 12)

    expect(sample(text, 'tollgate_open_streams')).toBe(0)
    expect(sample(text, 'tollgate_inflight_requests')).toBe(0)
    expect(sample(text, 'tollgate_circuit_breaker_state', { provider: 'openai', state: 'closed' })).toBe(1)
    expect(sample(text, 'tollgate_circuit_breaker_state', { provider: 'openai', state: 'open' })).toBe(0)
    // Process metrics (prom-client's defaults) work under Bun.
    expect(sample(text, 'process_cpu_seconds_total')).toBeGreaterThan(0)
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0)
    expect(text).toContain('nodejs_eventloop_lag_seconds')

    // No key ids, request ids or secrets as label values.
    for (const r of records) expect(text).not.toContain(r.id)
    for (const s of ['test-key', 'broke-key', CANARY.gatewayKey, BROKE_KEY, NARROW_KEY, CANARY.openaiKey]) expect(text).not.toContain(s)
  })

  test('a model name shaped like a key is redacted in labels', async () => {
    const leaked = 'sk-proj-CANARYmodelNameThatIsAKey000000000001'
    // Refused before upstream (not an allowed model), so the requested name is what gets recorded.
    const res = await fetch(`${gateway.url}/openai/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${NARROW_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...(chatJson.requestBody as object), model: leaked }),
    })
    expect(res.status).toBe(403)
    expect(await res.text()).not.toContain(leaked)
    const text = await (await fetch(`${gateway.url}/metrics`)).text()
    expect(text).not.toContain(leaked)
    expect(labelValues(text, 'tollgate_requests_total', 'model')).toContain('[REDACTED]')
  })
})

test('in-flight requests and open streams while a stream is being relayed', async () => {
  const slow = startReplayUpstream([chatStream], { chunkDelayMs: 20, chunkSize: 512 })
  const gateway = await startGateway(config('').replace(upstream.url, slow.url))
  try {
    const res = await fetch(`${gateway.url}/openai/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CANARY.gatewayKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(chatStream.requestBody),
    })
    const reader = res.body!.getReader()
    expect((await reader.read()).done).toBe(false)
    const during = await (await fetch(`${gateway.url}/metrics`)).text()
    expect(sample(during, 'tollgate_open_streams')).toBe(1)
    expect(sample(during, 'tollgate_inflight_requests')).toBe(1)
    while (!(await reader.read()).done);
    // The stream's end is recorded as the relay closes.
    let after = ''
    for (let i = 0; i < 100 && sample(after, 'tollgate_requests_total') === 0; i++) after = await (await fetch(`${gateway.url}/metrics`)).text()
    expect(sample(after, 'tollgate_open_streams')).toBe(0)
    expect(sample(after, 'tollgate_inflight_requests')).toBe(0)
  } finally {
    await gateway.stop()
    slow.stop()
  }
})

describe('metrics on their own listener, behind a token', () => {
  let gateway: TestGateway
  const TOKEN = 'metrics-CANARY-token-000000000001'

  beforeAll(async () => {
    gateway = await startGateway(config(`[metrics]\nlisten = "127.0.0.1:0"\ntoken = "${TOKEN}"`))
  })
  afterAll(() => gateway.stop())

  test('only the separate listener answers, and only with the token', async () => {
    const listener = gateway.gw.telemetry.listenMetrics()!
    expect(listener.url).not.toBe(gateway.url)
    const main = await fetch(`${gateway.url}/metrics`)
    expect(main.status).not.toBe(200)
    expect(await main.text()).not.toContain('tollgate_requests_total')
    expect((await fetch(`${listener.url}/metrics`)).status).toBe(401)
    expect((await fetch(`${listener.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401)
    const ok = await fetch(`${listener.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(ok.status).toBe(200)
    const text = await ok.text()
    expect(text).toContain('# TYPE tollgate_requests_total counter')
    expect(text).not.toContain(TOKEN)
    expect((await fetch(`${listener.url}/other`)).status).toBe(404)
  })
})

test('label values are bounded: past the cap, new values become "other"', () => {
  const guard = new LabelGuard(new Redactor(), 3)
  expect(['a', 'b', 'c', 'd', 'a', 'e'].map((v) => guard.value('model', v))).toEqual(['a', 'b', 'c', 'other', 'a', 'other'])
  expect(guard.value('route', 'x')).toBe('x')
  expect(guard.value('model', undefined)).toBe('none')
  expect(guard.value('route', 'y'.repeat(256))).toHaveLength(96)
  // Longer raw values are never kept (memory bounded in bytes): they count as "other".
  expect(guard.value('route', 'z'.repeat(500))).toBe('other')
})

test('a value seen before a reload made it a secret is redacted from then on', () => {
  const redactor = new Redactor(['old-secret-value-1234'])
  const guard = new LabelGuard(redactor)
  expect(guard.value('model', 'my-model-name-abcdef')).toBe('my-model-name-abcdef')
  expect(guard.value('model', 'old-secret-value-1234')).not.toContain('old-secret')
  redactor.setSecrets(['my-model-name-abcdef'])
  expect(guard.value('model', 'my-model-name-abcdef')).not.toContain('my-model-name')
  expect(guard.value('model', 'old-secret-value-1234')).toBe('old-secret-value-1234')
})
