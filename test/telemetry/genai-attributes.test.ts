/**
 * GenAI semantic-convention attributes for every provider format, from real recordings: for
 * each conformance entry (OpenAI chat and Responses, Anthropic, Groq, Gemini, Vertex, Bedrock
 * Converse and invoke), one recorded JSON answer and one recorded stream go through a gateway
 * exporting to a local OTLP receiver. The server span must name the provider, the request
 * model and parameters, the response id, model and finish reasons as the recording has them,
 * and the usage the gateway read.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { RequestRecord } from '../../src/proxy/record'
import { CONFORMANCE_PROVIDERS } from '../conformance/providers'
import { basicConfig, startGateway, type TestGateway } from '../support/gateway'
import type { Interaction } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver'
import { sseEvents } from '../support/sse'
import { isStream, pickInteractions, sendRecorded } from './recorded'

/** gen_ai.provider.name per config api, as the semantic conventions list them. */
const SEMCONV_PROVIDER: Record<string, string> = {
  openai: 'openai',
  anthropic: 'anthropic',
  groq: 'groq',
  gemini: 'gcp.gemini',
  'google-vertex': 'gcp.vertex_ai',
  bedrock: 'aws.bedrock',
}

/** Request parameters and where provider bodies keep them. */
const PARAMS: [string, string[]][] = [
  ['gen_ai.request.temperature', ['temperature']],
  ['gen_ai.request.top_p', ['top_p', 'topP']],
  ['gen_ai.request.top_k', ['top_k', 'topK']],
  ['gen_ai.request.max_tokens', ['max_tokens', 'max_completion_tokens', 'max_output_tokens', 'maxOutputTokens', 'maxTokens']],
  ['gen_ai.request.seed', ['seed']],
]

type J = Record<string, any>

interface Expected {
  id?: string
  model?: string
  finish: string[]
}

/** What the recorded answer says about itself, read straight from the recording. */
function expectedFromRecording(x: Interaction): Expected {
  if (!isStream(x)) {
    const b = x.responseJson as J
    const finish = b.choices?.map((c: J) => c.finish_reason) ?? b.candidates?.map((c: J) => c.finishReason) ??
      (b.stop_reason ? [b.stop_reason] : b.stopReason ? [b.stopReason] : b.object === 'response' ? [b.incomplete_details?.reason ?? b.status] : [])
    return { id: b.id ?? b.responseId, model: b.model ?? b.modelVersion, finish: finish.filter(Boolean) }
  }
  if (x.contentType.includes('eventstream')) {
    // Binary AWS frames; their JSON payloads are plain text inside.
    const text = Buffer.from(x.responseBody).toString('latin1')
    const stops = [...text.matchAll(/"stopReason":"(\w+)"/g)].map((m) => m[1]!)
    return { finish: stops }
  }
  const events = sseEvents(x.responseBody).filter((e) => e.data.startsWith('{')).map((e) => JSON.parse(e.data) as J)
  const e: Expected = { finish: [] }
  for (const ev of events) {
    if (ev.type === 'message_start') (e.id ??= ev.message.id), (e.model ??= ev.message.model)
    else if (ev.type === 'message_delta' && ev.delta?.stop_reason) e.finish = [ev.delta.stop_reason]
    else if (typeof ev.type === 'string' && ev.type.startsWith('response.') && ev.response) {
      e.id ??= ev.response.id
      e.model ??= ev.response.model
      if (['response.completed', 'response.incomplete', 'response.failed'].includes(ev.type)) e.finish = [ev.response.incomplete_details?.reason ?? ev.response.status]
    } else if (ev.choices || ev.candidates) {
      e.id ??= ev.id ?? ev.responseId
      e.model ??= ev.model ?? ev.modelVersion
      for (const c of ev.choices ?? []) if (c.finish_reason) e.finish[c.index ?? 0] = c.finish_reason
      for (const c of ev.candidates ?? []) if (c.finishReason) e.finish[c.index ?? 0] = c.finishReason
    }
  }
  e.finish = e.finish.filter(Boolean)
  return e
}

function requestModel(x: Interaction): string | undefined {
  const b = x.requestBody as J | undefined
  if (typeof b?.model === 'string') return b.model
  const m = /\/models\/([^/:]+):/.exec(x.path) ?? /\/model\/([^/]+)\//.exec(x.path)
  return m ? decodeURIComponent(m[1]!) : undefined
}

for (const spec of CONFORMANCE_PROVIDERS) {
  describe(`GenAI attributes: ${spec.name ?? spec.folder}`, () => {
    let receiver: OtlpReceiver
    let upstream: ReplayUpstream
    let gateway: TestGateway
    const records = new Map<string, RequestRecord>()
    const api = /api = "([\w-]+)"/

    beforeAll(async () => {
      await spec.setup?.()
      receiver = startOtlpReceiver()
      upstream = startReplayUpstream([])
      const extra = `[pricing]\nunknown_model = "allow"\n[logging]\nlevel = "off"\n[otel]\nendpoint = "${receiver.url}"`
      gateway = await startGateway(basicConfig(spec.providerToml(upstream.url), extra), { env: spec.env, sinks: [{ record: (r) => void records.set(r.id, r) }] })
    })
    afterAll(async () => {
      await gateway.stop()
      upstream.stop()
      receiver.stop()
      spec.teardown?.()
    })

    test('JSON answers and streams carry the conventions’ attributes', async () => {
      const picked = await pickInteractions(spec)
      expect(picked.length).toBeGreaterThan(0)
      for (const { name, cassette, x } of picked) {
        upstream.use(cassette)
        const res = await sendRecorded(gateway.url, spec, x)
        await res.arrayBuffer()
        expect(res.status, name).toBe(200)
        const requestId = res.headers.get('x-tollgate-request-id')!
        await gateway.gw.telemetry.flush()
        const spans = await receiver.waitFor((s) => s.some((sp) => sp.attributes['tollgate.request_id'] === requestId))
        const server = spans.find((sp) => sp.attributes['tollgate.request_id'] === requestId)!
        const a = server.attributes
        const record = records.get(requestId)!
        const want = expectedFromRecording(x)
        const providerApi = api.exec(spec.providerToml('http://x'))![1]!

        expect(a['gen_ai.provider.name'], name).toBe(SEMCONV_PROVIDER[providerApi]!)
        expect(typeof a['gen_ai.operation.name'], name).toBe('string')
        expect(a['gen_ai.request.model'], name).toBe(record.model!)
        const model = requestModel(x)
        if (model) expect(String(a['gen_ai.request.model']), name).toContain(model.split(':')[0]!.split('.').at(-1)!)
        expect(server.name, name).toBe(`${a['gen_ai.operation.name']} ${a['gen_ai.request.model']}`)
        expect(a['gen_ai.request.stream'], name).toBe(isStream(x))

        const rb = (typeof x.requestBody === 'object' ? x.requestBody : {}) as J
        for (const [attr, keys] of PARAMS) {
          const v = [rb, rb.generationConfig, rb.inferenceConfig].filter(Boolean).map((src: J) => keys.map((k) => src[k]).find((y) => typeof y === 'number')).find((y) => y !== undefined)
          if (v !== undefined) expect(a[attr], `${name} ${attr}`).toBe(v)
        }

        if (want.id) expect(a['gen_ai.response.id'], name).toBe(want.id)
        else expect(a['gen_ai.response.id'], name).toBeUndefined()
        expect(a['gen_ai.response.model'], name).toBe(want.model ?? record.usage?.model ?? undefined)
        if (want.finish.length) expect(a['gen_ai.response.finish_reasons'], name).toEqual(want.finish)

        const t = record.usage?.tokens
        // Some recorded streams end in an error event before any usage (Groq's tool_use_failed).
        const reported = /"usage"|usageMetadata|"metadata"|invocationMetrics/.test(Buffer.from(x.responseBody).toString('latin1'))
        if (!reported) {
          expect(a['gen_ai.usage.input_tokens'], name).toBeUndefined()
          continue
        }
        expect(t, `${name}: the gateway read usage`).toBeDefined()
        expect(a['gen_ai.usage.input_tokens'], name).toBe(t!.input_tokens!)
        expect(a['gen_ai.usage.output_tokens'], name).toBe(t!.output_tokens!)
        if (t!.cache_read_tokens !== undefined) expect(a['gen_ai.usage.cache_read.input_tokens'], name).toBe(t!.cache_read_tokens)
        if (t!.cache_write_tokens !== undefined) expect(a['gen_ai.usage.cache_creation.input_tokens'], name).toBe(t!.cache_write_tokens)
        if (isStream(x)) expect(a['gen_ai.response.time_to_first_chunk'], name).toBeGreaterThan(0)
      }
    })
  })
}
