/**
 * Traces end to end, over both OTLP encodings: the official OpenAI SDK sends a request with a
 * `traceparent`; the local receiver must get a SERVER span that continues the caller's trace,
 * one CLIENT span per upstream attempt under it, and the upstream must see the attempt's own
 * `traceparent` (not the caller's). A routing group that fails over yields one attempt span per try.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette, type Interaction } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'
import { startFaultUpstream, type FaultUpstream } from '../support/fault-upstream'
import { sample } from './prom-text'
import { SPAN_KIND, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver'

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const CALLER_SPAN = '00f067aa0ba902b7'
const parseTraceparent = (v: string | null) => {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(v ?? '')
  return m ? { traceId: m[1]!, spanId: m[2]!, flags: m[3]! } : undefined
}

let chatJson: Interaction
let chatStream: Interaction

beforeAll(async () => {
  chatJson = (await loadCassette('openai', 'test_max_completion_tokens[gpt-4o-mini]')).interactions[0]!
  chatStream = (await loadCassette('openai', 'test_run_stream_sync_streams_real_model')).interactions[0]!
})

const openaiToml = (url: string, id = 'openai') => `[[providers]]\nid = "${id}"\napi = "openai"\nbase_url = "${url}/v1"\napi_key = "${CANARY.openaiKey}"`

for (const protocol of ['http/protobuf', 'http/json'] as const) {
  describe(`traces over ${protocol}`, () => {
    let receiver: OtlpReceiver
    let upstream: ReplayUpstream
    let gateway: TestGateway
    let client: OpenAI

    beforeAll(async () => {
      receiver = startOtlpReceiver()
      upstream = startReplayUpstream([chatJson, chatStream])
      const otel = `[otel]\nendpoint = "${receiver.url}"\nprotocol = "${protocol}"\nservice_name = "tollgate-test"\nheaders = { Authorization = "test-write-token" }`
      gateway = await startGateway(basicConfig(openaiToml(upstream.url), `[pricing]\nunknown_model = "allow"\n[logging]\nlevel = "off"\n${otel}`))
      client = new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/openai`, maxRetries: 0, defaultHeaders: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` } })
    })
    afterAll(async () => {
      await gateway.stop()
      upstream.stop()
      receiver.stop()
    })

    test('the caller trace continues through the server span and the attempt span to the upstream', async () => {
      const body = chatJson.requestBody as OpenAI.ChatCompletionCreateParamsNonStreaming
      const { response, data } = await client.chat.completions.create(body).withResponse()
      const requestId = response.headers.get('x-tollgate-request-id')!
      await gateway.gw.telemetry.flush()
      const spans = await receiver.waitFor((s) => s.some((x) => x.attributes['tollgate.request_id'] === requestId))
      const server = spans.find((s) => s.attributes['tollgate.request_id'] === requestId)!
      const attempts = spans.filter((s) => s.parentSpanId === server.spanId)

      expect(receiver.exports.at(-1)!.contentType).toContain(protocol === 'http/json' ? 'application/json' : 'application/x-protobuf')
      expect(receiver.exports.at(-1)!.headers.get('authorization')).toBe('test-write-token')
      expect(server.resource['service.name']).toBe('tollgate-test')

      expect(server.kind).toBe(SPAN_KIND.server)
      expect(server.traceId).toBe(CALLER_TRACE)
      expect(server.parentSpanId).toBe(CALLER_SPAN)
      expect(server.name).toBe(`chat ${body.model}`)
      expect(attempts).toHaveLength(1)
      const attempt = attempts[0]!
      expect(attempt.kind).toBe(SPAN_KIND.client)
      expect(attempt.traceId).toBe(CALLER_TRACE)
      expect(attempt.name).toBe(`chat ${body.model}`)
      expect(attempt.attributes['tollgate.attempt']).toBe(1)
      expect(attempt.attributes['http.response.status_code']).toBe(200)
      expect(attempt.attributes['server.address']).toBe('127.0.0.1')

      // The upstream sees the attempt as its parent, in the caller's trace.
      const sent = parseTraceparent(upstream.received.at(-1)!.headers.get('traceparent'))
      expect(sent).toEqual({ traceId: CALLER_TRACE, spanId: attempt.spanId, flags: '01' })

      const a = server.attributes
      expect(a['gen_ai.operation.name']).toBe('chat')
      expect(a['gen_ai.provider.name']).toBe('openai')
      expect(a['gen_ai.request.model']).toBe(body.model)
      expect(a['gen_ai.request.max_tokens']).toBe(body.max_completion_tokens!)
      expect(a['gen_ai.response.id']).toBe(data.id)
      expect(a['gen_ai.response.model']).toBe(data.model)
      expect(a['gen_ai.response.finish_reasons']).toEqual(data.choices.map((c) => c.finish_reason))
      expect(a['gen_ai.usage.input_tokens']).toBe(data.usage!.prompt_tokens)
      expect(a['gen_ai.usage.output_tokens']).toBe(data.usage!.completion_tokens)
      expect(a['tollgate.project']).toBe('default')
      expect(a['tollgate.user']).toBe('alice')
      expect(a['tollgate.key_id']).toBe('test-key')
      expect(a['tollgate.route']).toBe('openai')
      expect(a['http.response.status_code']).toBe(200)
      // Priced by the spend hook before the span ended.
      expect(typeof a['tollgate.cost_usd']).toBe('number')
      expect(a['operation.cost']).toBe(a['tollgate.cost_usd'])
      // Content is off by default.
      expect(a['gen_ai.input.messages']).toBeUndefined()
      expect(a['gen_ai.output.messages']).toBeUndefined()
      for (const s of [server, attempt]) expect(JSON.stringify(s)).not.toContain(CANARY.gatewayKey)
    })

    test('a stream: finish reasons, time to first chunk and usage; no incoming traceparent starts a new trace', async () => {
      const plain = new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/openai`, maxRetries: 0 })
      const body = chatStream.requestBody as OpenAI.ChatCompletionCreateParamsStreaming
      const { data: stream, response } = await plain.chat.completions.create(body).withResponse()
      let id = ''
      let usage: OpenAI.CompletionUsage | undefined | null
      const finish: string[] = []
      for await (const chunk of stream) {
        id = chunk.id
        if (chunk.usage) usage = chunk.usage
        for (const c of chunk.choices) if (c.finish_reason) finish.push(c.finish_reason)
      }
      const requestId = response.headers.get('x-tollgate-request-id')!
      await gateway.gw.telemetry.flush()
      const spans = await receiver.waitFor((s) => s.some((x) => x.attributes['tollgate.request_id'] === requestId))
      const server = spans.find((s) => s.attributes['tollgate.request_id'] === requestId)!
      expect(server.parentSpanId).toBeUndefined()
      expect(server.traceId).not.toBe(CALLER_TRACE)
      const sent = parseTraceparent(upstream.received.at(-1)!.headers.get('traceparent'))
      const attempt = spans.find((s) => s.parentSpanId === server.spanId)!
      expect(sent).toEqual({ traceId: server.traceId, spanId: attempt.spanId, flags: '01' })

      const a = server.attributes
      expect(a['gen_ai.request.stream']).toBe(true)
      expect(a['gen_ai.response.id']).toBe(id)
      expect(a['gen_ai.response.finish_reasons']).toEqual(finish)
      expect(a['gen_ai.usage.input_tokens']).toBe(usage!.prompt_tokens)
      expect(a['gen_ai.usage.output_tokens']).toBe(usage!.completion_tokens)
      expect(a['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0)
    })
  })
}

describe('failover', () => {
  let receiver: OtlpReceiver
  let good: ReplayUpstream
  let flaky: FaultUpstream
  let gateway: TestGateway

  beforeAll(async () => {
    receiver = startOtlpReceiver()
    good = startReplayUpstream([chatJson])
    flaky = await startFaultUpstream()
    const toml = [
      openaiToml(flaky.url, 'openai-flaky'),
      openaiToml(good.url, 'openai-good'),
      `[[routes]]\nname = "gpt"\ntargets = [{ provider = "openai-flaky", priority = 10 }, { provider = "openai-good", priority = 1 }]`,
    ].join('\n\n')
    gateway = await startGateway(basicConfig(toml, `[pricing]\nunknown_model = "allow"\n[logging]\nlevel = "off"\n[otel]\nendpoint = "${receiver.url}"`))
  })
  afterAll(async () => {
    await gateway.stop()
    good.stop()
    await flaky.stop()
    receiver.stop()
  })

  test('one attempt span per try, each upstream seeing its own attempt as parent', async () => {
    flaky.script({ status: 503, body: { error: { message: 'overloaded' } } })
    const client = new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/gpt`, maxRetries: 0 })
    const { response } = await client.chat.completions.create(chatJson.requestBody as OpenAI.ChatCompletionCreateParamsNonStreaming).withResponse()
    expect(response.status).toBe(200)
    const requestId = response.headers.get('x-tollgate-request-id')!
    await gateway.gw.telemetry.flush()
    const spans = await receiver.waitFor((s) => s.some((x) => x.attributes['tollgate.request_id'] === requestId))
    const server = spans.find((s) => s.attributes['tollgate.request_id'] === requestId)!
    const attempts = spans.filter((s: ReceivedSpan) => s.parentSpanId === server.spanId).sort((x, y) => Number(x.attributes['tollgate.attempt']) - Number(y.attributes['tollgate.attempt']))
    expect(attempts.map((s) => [s.attributes['tollgate.provider'], s.attributes['http.response.status_code'], s.attributes['tollgate.failed_over']])).toEqual([
      ['openai-flaky', 503, true],
      ['openai-good', 200, false],
    ])
    expect(attempts[0]!.attributes['error.type']).toBe('upstream_503')
    expect(attempts[0]!.status.code).toBe(2)
    expect(server.attributes['tollgate.provider']).toBe('openai-good')
    expect(server.attributes['tollgate.attempts']).toBe(2)
    expect(server.attributes['tollgate.route']).toBe('gpt')

    const flakySaw = parseTraceparent(String(flaky.received.at(-1)!.headers.traceparent))
    const goodSaw = parseTraceparent(good.received.at(-1)!.headers.get('traceparent'))
    expect(flakySaw?.spanId).toBe(attempts[0]!.spanId)
    expect(goodSaw?.spanId).toBe(attempts[1]!.spanId)
    expect(flakySaw?.traceId).toBe(server.traceId)

    const metrics = await (await fetch(`${gateway.url}/metrics`)).text()
    expect(sample(metrics, 'tollgate_failovers_total', { provider: 'openai-flaky' })).toBe(1)
    expect(sample(metrics, 'tollgate_upstream_errors_total', { provider: 'openai-flaky', type: 'upstream_503' })).toBe(1)
    expect(sample(metrics, 'tollgate_requests_total', { provider: 'openai-good', route: 'gpt', status_class: '2xx' })).toBe(1)
  })
})
