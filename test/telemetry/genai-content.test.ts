/**
 * Message content in the conventions' shape, from recorded requests and answers of each
 * provider format: inputs and system instructions, JSON outputs, and outputs reassembled from
 * recorded streams (SSE and Bedrock's binary event-stream, decoded by the Bedrock plugin), each
 * read by its format's telemetry (ProviderApi.telemetry).
 */
import { expect, test } from 'bun:test'
import { eventStreamDecoder } from '../../src/providers/bedrock/eventstream'
import { providerApi } from '../../src/providers/registry'
import type { GenAiMessage as Message, ResponseInfo, TelemetryFormat } from '../../src/providers/types'
import { loadCassette } from '../support/recordings'
import { sseEvents } from '../support/sse'

type J = Record<string, any>

const format = (api: string, flavor = 'default'): TelemetryFormat => providerApi(api)!.telemetry!(flavor)

function observeSse(f: TelemetryFormat, body: Uint8Array): { info: ResponseInfo; output?: Message[] } {
  const info: ResponseInfo = {}
  const o = f.stream(info, true)
  for (const e of sseEvents(body)) o.event(e.event, e.data)
  return { info, output: o.output() }
}

/** What a format reads of a complete JSON answer, with content capture on. */
function observeJson(f: TelemetryFormat, body: unknown): ResponseInfo {
  const info: ResponseInfo = {}
  f.response(body, info, true)
  return info
}

test('Gemini: input with system instruction; a recorded stream reassembled', async () => {
  const x = (await loadCassette('google', 'test_google_model_stream')).interactions[0]!
  const req = x.requestBody as J
  const gemini = format('gemini')
  expect(gemini.input(req)).toEqual({
    messages: [{ role: 'user', parts: [{ type: 'text', content: req.contents[0].parts[0].text }] }],
    system: [{ type: 'text', content: req.systemInstruction.parts[0].text }],
  })
  const chunks = sseEvents(x.responseBody).map((e) => JSON.parse(e.data) as J)
  const text = chunks.map((c) => c.candidates?.[0]?.content?.parts?.map((p: J) => p.text ?? '').join('') ?? '').join('')
  const { info, output } = observeSse(gemini, x.responseBody)
  expect(info.id).toBe(chunks[0]!.responseId)
  expect(info.model).toBe(chunks[0]!.modelVersion)
  const finish = chunks.map((c) => c.candidates?.[0]?.finishReason).filter(Boolean)
  expect(info.finishReasons).toEqual([finish.at(-1)])
  expect(output).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: text }], finish_reason: finish.at(-1) }])
})

test('Bedrock Converse: input with system; a recorded binary event-stream reassembled', async () => {
  const x = (await loadCassette('bedrock', 'test_bedrock_model_stream')).interactions[0]!
  const req = x.requestBody as J
  const bedrock = format('bedrock')
  expect(bedrock.input(req)).toEqual({
    messages: [{ role: 'user', parts: [{ type: 'text', content: req.messages[0].content[0].text }] }],
    system: [{ type: 'text', content: req.system[0].text }],
  })
  const info: ResponseInfo = {}
  const o = bedrock.stream(info, true)
  const seen: J[] = []
  const decoder = eventStreamDecoder({
    event: (name, data) => {
      seen.push({ name, ...JSON.parse(data) })
      o.event(name, data)
    },
    result: () => undefined,
  })
  // Odd-sized network chunks, as a real connection delivers them.
  for (let i = 0; i < x.responseBody.length; i += 53) decoder.push(x.responseBody.subarray(i, i + 53))
  decoder.end()
  const text = seen.filter((e) => e.name === 'contentBlockDelta').map((e) => e.delta.text ?? '').join('')
  const stop = seen.find((e) => e.name === 'messageStop')!.stopReason
  expect(text.length).toBeGreaterThan(0)
  expect(info.finishReasons).toEqual([stop])
  expect(o.output()).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: text }], finish_reason: stop }])
})

test('Anthropic: a recorded stream with thinking and text blocks', async () => {
  const x = (await loadCassette('anthropic', 'test_anthropic_model_thinking_part_redacted_stream')).interactions[0]!
  const events = sseEvents(x.responseBody).map((e) => JSON.parse(e.data) as J)
  const text = events.filter((e) => e.type === 'content_block_delta' && e.delta.type === 'text_delta').map((e) => e.delta.text).join('')
  const { info, output } = observeSse(format('anthropic'), x.responseBody)
  const start = events.find((e) => e.type === 'message_start')!.message
  expect(info.id).toBe(start.id)
  expect(info.model).toBe(start.model)
  const stop = events.find((e) => e.type === 'message_delta')!.delta.stop_reason
  expect(info.finishReasons).toEqual([stop])
  expect(output![0]!.finish_reason).toBe(stop)
  expect(output![0]!.parts.filter((p) => p.type === 'text').map((p) => p.content).join('')).toBe(text)
})

test('Anthropic JSON: input blocks, output message', async () => {
  const x = (await loadCassette('anthropic', 'test_anthropic_sampling_settings_reach_the_wire')).interactions[0]!
  const req = x.requestBody as J
  const res = x.responseJson as J
  const anthropic = format('anthropic')
  expect(anthropic.input(req).messages).toEqual([{ role: 'user', parts: [{ type: 'text', content: req.messages[0].content[0].text }] }])
  expect(observeJson(anthropic, res).output).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: res.content[0].text }], finish_reason: res.stop_reason }])
})

test('OpenAI Responses JSON: function calls and text in the output, instructions as system', async () => {
  const x = (await loadCassette('openai_responses', 'test_openai_responses_model_simple_response_with_tool_call')).interactions[0]!
  const res = x.responseJson as J
  const responses = format('openai', 'responses')
  const info = observeJson(responses, res)
  expect(info.id).toBe(res.id)
  expect(info.finishReasons).toEqual([res.status])
  const calls = res.output.filter((o: J) => o.type === 'function_call')
  const parts = info.output![0]!.parts
  for (const c of calls) expect(parts).toContainEqual({ type: 'tool_call', id: c.call_id ?? c.id, name: c.name, arguments: c.arguments })
  const req = x.requestBody as J
  const input = responses.input(req)
  if (req.instructions) expect(input.system).toEqual([{ type: 'text', content: req.instructions }])
  expect(input.messages!.length).toBeGreaterThan(0)
})

test('OpenAI chat: a tool result message and image parts keep no bytes', () => {
  const input = format('openai', 'chat').input({
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'result' },
    ],
  })
  expect(input.messages).toEqual([
    { role: 'user', parts: [{ type: 'text', content: 'what is this?' }, { type: 'blob', modality: 'image', original_type: 'image_url' }] },
    { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'f', arguments: '{}' }] },
    { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: 'result' }] },
  ])
  expect(JSON.stringify(input)).not.toContain('base64')
})
