/**
 * Each format's telemetry readers (ProviderApi.telemetry), pure, on every recorded exchange:
 * request parameters as the recorded body has them; the id, model and finish reasons of each
 * recorded JSON answer and stream, read straight from the recording here; and, with content
 * capture, the text a stream carried reassembled. Without capture a chat stream parses only
 * the chunks that can say something (the first, and those with a finish reason).
 */
import { describe, expect, spyOn, test } from 'bun:test'
import { eventStreamDecoder } from '../../src/providers/bedrock/eventstream'
import { providerApi } from '../../src/providers/registry'
import type { ResponseInfo, TelemetryFormat } from '../../src/providers/types'
import { listCassettes, loadCassette, type Interaction } from '../support/recordings'
import { sseEvents } from '../support/sse'

type J = Record<string, any>

interface Event {
  name: string | undefined
  data: string
}

/** The api and flavor that read one recorded exchange, as the gateway's routes would pick them. */
function formatOf(folder: string, x: Interaction): { api: string; flavor: string } | undefined {
  if (x.method !== 'POST' || x.status !== 200) return undefined
  const p = x.path
  if (x.host.includes('openai.com')) {
    if (p.endsWith('/chat/completions')) return { api: 'openai', flavor: 'chat' }
    if (p.endsWith('/responses')) return { api: 'openai', flavor: 'responses' }
    return undefined
  }
  if (x.host.includes('anthropic.com')) return p.endsWith('/v1/messages') ? { api: 'anthropic', flavor: 'default' } : undefined
  if (x.host.includes('groq.com')) return p.endsWith('/chat/completions') ? { api: 'groq', flavor: 'default' } : undefined
  if (x.host.includes('generativelanguage')) {
    if (p.includes('/openai/chat/completions')) return { api: 'gemini', flavor: 'openai' }
    return /:(?:stream)?[gG]enerateContent$/.test(p) ? { api: 'gemini', flavor: 'default' } : undefined
  }
  if (x.host.includes('aiplatform')) {
    if (/publishers\/anthropic\/models\/[^/]+:(?:stream)?[rR]awPredict$/.test(p)) return { api: 'google-vertex', flavor: 'anthropic' }
    return /:(?:stream)?[gG]enerateContent$/.test(p) ? { api: 'google-vertex', flavor: 'default' } : undefined
  }
  if (folder === 'bedrock' && /\/model\/[^/]+\/(?:converse|converse-stream|invoke|invoke-with-response-stream)$/.test(p)) {
    return { api: 'bedrock', flavor: /\/invoke/.test(p) && decodeURIComponent(p).includes('anthropic.') ? 'anthropic' : 'default' }
  }
  return undefined
}

const isStream = (x: Interaction) => x.contentType.includes('event-stream') || x.contentType.includes('eventstream')

/** The events of a recorded stream: SSE, or Bedrock's binary event-stream decoded. */
function eventsOf(x: Interaction): Event[] {
  if (!x.contentType.includes('eventstream')) return sseEvents(x.responseBody).map((e) => ({ name: e.event, data: e.data }))
  const out: Event[] = []
  const d = eventStreamDecoder({ event: (name, data) => void out.push({ name, data }), result: () => undefined })
  for (let i = 0; i < x.responseBody.length; i += 61) d.push(x.responseBody.subarray(i, i + 61))
  d.end()
  return out
}

const parse = (s: string): J | undefined => {
  try {
    return JSON.parse(s)
  } catch {
    return undefined
  }
}

interface Expected {
  id?: string
  model?: string
  finish: string[]
  /** Text the stream carried (not reasoning), per choice. */
  text: string[]
}

/** An Anthropic event's part of the expectation (also inside a Bedrock invoke chunk). */
function anthropicEvent(ev: J, e: Expected): void {
  if (ev.type === 'message_start') (e.id ??= ev.message.id), (e.model ??= ev.message.model)
  else if (ev.type === 'message_delta' && ev.delta?.stop_reason) e.finish[0] = ev.delta.stop_reason
  else if (ev.type === 'content_block_start' && ev.content_block?.type === 'text') e.text[0] = (e.text[0] ?? '') + (ev.content_block.text ?? '')
  else if (ev.type === 'content_block_delta' && ev.delta?.type === 'text_delta') e.text[0] = (e.text[0] ?? '') + ev.delta.text
}

/** What a recorded stream says about itself, read here from the recording event by event. */
function expectedStream(events: Event[]): Expected {
  const e: Expected = { finish: [], text: [] }
  for (const { name, data } of events) {
    const ev = parse(data)
    if (!ev || typeof ev !== 'object') continue
    if (name === 'chunk' && typeof ev.bytes === 'string') anthropicEvent(JSON.parse(Buffer.from(ev.bytes, 'base64').toString('utf8')), e)
    else if (name === 'messageStop') e.finish[0] = ev.stopReason
    else if (name === 'contentBlockDelta' && typeof ev.delta?.text === 'string') e.text[0] = (e.text[0] ?? '') + ev.delta.text
    else if (typeof ev.type === 'string' && ev.type.startsWith('response.')) {
      if (ev.response) (e.id ??= ev.response.id), (e.model ??= ev.response.model)
      if (['response.completed', 'response.incomplete', 'response.failed'].includes(ev.type)) e.finish = [ev.response.incomplete_details?.reason ?? ev.response.status]
    } else if (typeof ev.type === 'string') anthropicEvent(ev, e)
    else if (ev.choices) {
      e.id ??= ev.id
      e.model ??= ev.model
      for (const c of ev.choices) {
        const i = c.index ?? 0
        if (c.finish_reason) e.finish[i] = c.finish_reason
        if (typeof c.delta?.content === 'string') e.text[i] = (e.text[i] ?? '') + c.delta.content
      }
    } else if (ev.candidates) {
      e.id ??= ev.responseId
      e.model ??= ev.modelVersion
      ev.candidates.forEach((c: J, j: number) => {
        const i = c.index ?? j
        if (c.finishReason) e.finish[i] = c.finishReason
        for (const p of c.content?.parts ?? []) if (typeof p.text === 'string' && p.thought !== true) e.text[i] = (e.text[i] ?? '') + p.text
      })
    }
  }
  e.finish = e.finish.filter(Boolean)
  return e
}

function expectedJson(b: J): Omit<Expected, 'text'> {
  if (b.output?.message) return { finish: b.stopReason ? [b.stopReason] : [] }
  const finish = b.choices?.map((c: J) => c.finish_reason) ?? b.candidates?.map((c: J) => c.finishReason) ??
    (b.stop_reason ? [b.stop_reason] : b.object === 'response' ? [b.incomplete_details?.reason ?? b.status] : [])
  return { id: b.id ?? b.responseId, model: b.model ?? b.modelVersion, finish: finish.filter(Boolean) }
}

/** The request parameters as the recorded body has them, wherever the format keeps them. */
function expectedParams(rb: J): Record<string, unknown> {
  const sources = [rb, rb.generationConfig, rb.inferenceConfig].filter(Boolean)
  const pick = (...keys: string[]) => sources.map((s: J) => keys.map((k) => s[k]).find((v) => typeof v === 'number')).find((v) => v !== undefined)
  const out: Record<string, unknown> = { temperature: pick('temperature'), topP: pick('top_p', 'topP'), topK: pick('top_k', 'topK'), seed: pick('seed') }
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k]
  return out
}

const FOLDERS = ['openai', 'openai_responses', 'anthropic', 'groq', 'google', 'bedrock']

describe.each(FOLDERS)('telemetry readers on %s recordings', (folder) => {
  test('requests, JSON answers and streams read as the recording says', async () => {
    let json = 0
    let streams = 0
    const formats = new Set<string>()
    for (const name of listCassettes(folder)) {
      for (const x of (await loadCassette(folder, name)).interactions) {
        const which = formatOf(folder, x)
        if (!which) continue
        const at = `${folder}/${name} ${x.path}`
        const api = providerApi(which.api)!
        const format: TelemetryFormat = api.telemetry!(which.flavor)
        formats.add(`${which.api}:${which.flavor}`)
        const rb = (typeof x.requestBody === 'object' && x.requestBody ? x.requestBody : {}) as J
        expect(format.request(rb), at).toMatchObject(expectedParams(rb))

        const info: ResponseInfo = {}
        if (isStream(x)) {
          const events = eventsOf(x)
          const want = expectedStream(events)
          const reader = format.stream(info, true)
          for (const e of events) reader.event(e.name, e.data)
          expect(info.id, at).toBe(want.id)
          expect(info.model, at).toBe(want.model)
          expect(info.finishReasons?.filter(Boolean) ?? [], at).toEqual(want.finish)
          // Responses streams carry their output in the final event (not reassembled from deltas).
          if (which.flavor !== 'responses') {
            const text = (reader.output() ?? []).map((m) => m.parts.filter((p) => p.type === 'text').map((p) => p.content).join(''))
            expect(text.map((t) => t || undefined).filter(Boolean), at).toEqual(want.text.filter(Boolean))
          }
          // Without capture, the same id, model and finish reasons.
          const plain: ResponseInfo = {}
          const cheap = format.stream(plain, false)
          for (const e of events) cheap.event(e.name, e.data)
          expect(plain, at).toEqual(JSON.parse(JSON.stringify({ id: info.id, model: info.model, finishReasons: info.finishReasons })))
          expect(cheap.output(), at).toBeUndefined()
          streams++
        } else if (x.responseJson && typeof x.responseJson === 'object') {
          const want = expectedJson(x.responseJson as J)
          format.response(x.responseJson, info, true)
          expect(info.id, at).toBe(want.id)
          expect(info.model, at).toBe(want.model)
          expect(info.finishReasons ?? [], at).toEqual(want.finish)
          expect(info.output?.length ?? 0, at).toBeGreaterThan(0)
          json++
        }
      }
    }
    expect(json + streams).toBeGreaterThan(0)
    expect(streams, `${folder}: ${[...formats].join(', ')}`).toBeGreaterThan(0)
  })
})

test('without content capture a chat stream parses only its first chunk and those with a finish reason', async () => {
  let events: Event[] = []
  // The first recorded chat stream with more than a few chunks.
  for (const name of listCassettes('groq')) {
    const x = (await loadCassette('groq', name)).interactions.find((i) => isStream(i) && i.status === 200 && i.path.endsWith('/chat/completions'))
    if (x && (events = eventsOf(x)).length > 5) break
  }
  const chunks = events.filter((e) => e.data.startsWith('{'))
  expect(chunks.length).toBeGreaterThan(5)
  const format = providerApi('openai')!.telemetry!('chat')
  const spy = spyOn(JSON, 'parse')
  try {
    const reader = format.stream({}, false)
    for (const e of events) reader.event(e.name, e.data)
    const withFinish = chunks.filter((c) => /"finish_reason":"/.test(c.data)).length
    expect(spy.mock.calls.length).toBe(1 + withFinish)
    spy.mockClear()
    const capturing = format.stream({}, true)
    for (const e of events) capturing.event(e.name, e.data)
    expect(spy.mock.calls.length).toBe(chunks.length)
  } finally {
    spy.mockRestore()
  }
})

test('request parameters follow each table’s fields and precedence', () => {
  const t = (api: string, flavor = 'default') => providerApi(api)!.telemetry!(flavor)
  expect(t('openai', 'chat').request({ temperature: 0.5, top_p: 0.9, n: 3, stop: 'END', seed: 7, frequency_penalty: 0.1 })).toEqual({
    temperature: 0.5,
    topP: 0.9,
    choiceCount: 3,
    stopSequences: ['END'],
    seed: 7,
    frequencyPenalty: 0.1,
  })
  // A choice count of 1 is not recorded; a non-integer seed is not one.
  expect(t('openai', 'chat').request({ n: 1, seed: 1.5 })).toEqual({})
  expect(t('gemini').request({ generationConfig: { temperature: 0.2, topK: 40, candidateCount: 2, stopSequences: ['x', 3] } })).toEqual({ temperature: 0.2, topK: 40, choiceCount: 2, stopSequences: ['x'] })
  // Gemini's OpenAI-compatible rows take OpenAI's fields.
  expect(t('gemini', 'openai').request({ temperature: 1, n: 2 })).toEqual({ temperature: 1, choiceCount: 2 })
  expect(t('bedrock').request({ inferenceConfig: { temperature: 0.3, topP: 0.8, stopSequences: ['Human:'] } })).toEqual({ temperature: 0.3, topP: 0.8, stopSequences: ['Human:'] })
  expect(t('bedrock', 'anthropic').request({ temperature: 0.4, top_k: 5 })).toEqual({ temperature: 0.4, topK: 5 })
  expect(t('anthropic').request({ temperature: 0, top_p: 1, stop_sequences: ['a'], generationConfig: { topK: 3 } })).toEqual({ temperature: 0, topP: 1, stopSequences: ['a'] })
  expect(t('google-vertex', 'anthropic').request({ top_k: 9 })).toEqual({ topK: 9 })
})

test('Claude on Vertex and inside Bedrock invoke chunks reads as Anthropic does (a recorded Anthropic stream)', async () => {
  const x = (await loadCassette('anthropic', 'test_anthropic_model_thinking_part_redacted_stream')).interactions[0]!
  const events = eventsOf(x)
  const want = expectedStream(events)
  expect(want.finish.length).toBe(1)
  const read = (api: string, feed: Event[]) => {
    const info: ResponseInfo = {}
    const reader = providerApi(api)!.telemetry!('anthropic').stream(info, true)
    for (const e of feed) reader.event(e.name, e.data)
    const text = (reader.output() ?? []).map((m) => m.parts.filter((p) => p.type === 'text').map((p) => p.content).join(''))
    return { id: info.id, model: info.model, finish: info.finishReasons, text }
  }
  const expected = { id: want.id, model: want.model, finish: want.finish, text: want.text }
  expect(read('google-vertex', events)).toEqual(expected)
  // Bedrock's InvokeModelWithResponseStream: each Anthropic event as a `chunk` of base64 JSON.
  const chunks = events.map((e) => ({ name: 'chunk', data: JSON.stringify({ bytes: Buffer.from(e.data).toString('base64') }) }))
  expect(read('bedrock', chunks)).toEqual(expected)
})
