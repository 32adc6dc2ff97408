/**
 * Per-project tracing: a project with its own `otel.endpoint` gets its spans at its own
 * backend (and, with `also_global = false`, only there); message content is off by default,
 * on for the projects that ask, and redacted of secrets either way.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { CANARY, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette, type Interaction } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver'

const KEYS = {
  default: 'tg-test-CANARY-project-default-000000001',
  teamA: 'tg-test-CANARY-project-team-a-0000000001',
  teamB: 'tg-test-CANARY-project-team-b-0000000001',
}
/** A secret a user pastes into a prompt: it must never reach a trace backend. */
const PASTED = 'sk-proj-CANARYpastedIntoAPrompt000000000000001'

let global: OtlpReceiver
let teamB: OtlpReceiver
let upstream: ReplayUpstream
let gateway: TestGateway
let chatJson: Interaction
let toolStream: Interaction

beforeAll(async () => {
  chatJson = (await loadCassette('openai', 'test_max_completion_tokens[gpt-4o-mini]')).interactions[0]!
  toolStream = (await loadCassette('openai', 'test_run_stream_sync_streams_real_model')).interactions[0]!
  global = startOtlpReceiver()
  teamB = startOtlpReceiver()
  upstream = startReplayUpstream([chatJson, toolStream])
  gateway = await startGateway(`
[[providers]]
id = "openai"
api = "openai"
base_url = "${upstream.url}/v1"
api_key = "${CANARY.openaiKey}"

[otel]
endpoint = "${global.url}"

[logging]
level = "off"

[pricing]
unknown_model = "allow"

[[projects]]
id = "default"

[[projects]]
id = "team-a"
otel = { capture_content = true }

[[projects]]
id = "team-b"
otel = { endpoint = "${teamB.url}/v1/traces", protocol = "http/json", capture_content = true, also_global = false }

[[keys]]
id = "k-default"
project = "default"
key = "${KEYS.default}"

[[keys]]
id = "k-team-a"
project = "team-a"
key = "${KEYS.teamA}"

[[keys]]
id = "k-team-b"
project = "team-b"
key = "${KEYS.teamB}"
`)
})

afterAll(async () => {
  await gateway.stop()
  upstream.stop()
  global.stop()
  teamB.stop()
})

const client = (key: string) => new OpenAI({ apiKey: key, baseURL: `${gateway.url}/openai`, maxRetries: 0 })

async function send(key: string, stream: boolean): Promise<string> {
  // One recorded answer per request (the prompt here differs from the recording's).
  upstream.use([stream ? toolStream : chatJson])
  if (!stream) {
    const body = chatJson.requestBody as OpenAI.ChatCompletionCreateParamsNonStreaming
    const messages = [{ role: 'system' as const, content: `Never reveal ${PASTED}.` }, ...body.messages]
    const { response } = await client(key).chat.completions.create({ ...body, messages }).withResponse()
    return response.headers.get('x-tollgate-request-id')!
  }
  const { data, response } = await client(key).chat.completions.create(toolStream.requestBody as OpenAI.ChatCompletionCreateParamsStreaming).withResponse()
  for await (const _ of data) {
    // drain
  }
  return response.headers.get('x-tollgate-request-id')!
}

const byRequest = (spans: ReceivedSpan[], id: string) => {
  const server = spans.find((s) => s.attributes['tollgate.request_id'] === id)
  return { server, all: server ? spans.filter((s) => s.traceId === server.traceId) : [] }
}

test('spans go to their project backend; content only where switched on, and redacted', async () => {
  const ids = {
    default: await send(KEYS.default, false),
    teamA: await send(KEYS.teamA, false),
    teamAStream: await send(KEYS.teamA, true),
    teamB: await send(KEYS.teamB, false),
  }
  await gateway.gw.telemetry.flush()
  await global.waitFor((s) => [ids.default, ids.teamA, ids.teamAStream].every((id) => byRequest(s, id).server))
  await teamB.waitFor((s) => !!byRequest(s, ids.teamB).server)

  // Routing: team-b only at its own backend, with its attempt span; the others only at the global one.
  expect(byRequest(global.spans, ids.teamB).server).toBeUndefined()
  expect(byRequest(teamB.spans, ids.teamB).all).toHaveLength(2)
  for (const id of [ids.default, ids.teamA, ids.teamAStream]) {
    expect(byRequest(teamB.spans, id).server).toBeUndefined()
    expect(byRequest(global.spans, id).all).toHaveLength(2)
  }
  expect(teamB.exports[0]!.contentType).toContain('application/json')

  // Off by default.
  const plain = byRequest(global.spans, ids.default).server!.attributes
  expect(plain['gen_ai.input.messages']).toBeUndefined()
  expect(plain['gen_ai.system_instructions']).toBeUndefined()
  expect(plain['gen_ai.output.messages']).toBeUndefined()

  // On for team-a: the conventions' message shape, the pasted key redacted.
  const a = byRequest(global.spans, ids.teamA).server!.attributes
  const input = JSON.parse(String(a['gen_ai.input.messages']))
  expect(input).toEqual([
    { role: 'system', parts: [{ type: 'text', content: 'Never reveal [REDACTED].' }] },
    { role: 'user', parts: [{ type: 'text', content: 'hello' }] },
  ])
  const output = JSON.parse(String(a['gen_ai.output.messages']))
  const recorded = (chatJson.responseJson as { choices: { message: { content: string }; finish_reason: string }[] }).choices[0]!
  expect(output).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: recorded.message.content }], finish_reason: recorded.finish_reason }])

  // A streamed tool call, reassembled from its deltas.
  const s = byRequest(global.spans, ids.teamAStream).server!.attributes
  const streamed = JSON.parse(String(s['gen_ai.output.messages']))
  expect(streamed).toHaveLength(1)
  expect(streamed[0].finish_reason).toBe('tool_calls')
  expect(streamed[0].parts).toEqual([{ type: 'tool_call', id: 'call_ZR5UUuTt3pf61kjwAJIYdVMj', name: 'get_capital', arguments: '{"country":"UK"}' }])

  // team-b captures too, at its own backend.
  const b = byRequest(teamB.spans, ids.teamB).server!.attributes
  expect(String(b['gen_ai.input.messages'])).toContain('[REDACTED]')

  for (const r of [global, teamB]) {
    const text = JSON.stringify(r.spans)
    expect(text).not.toContain(PASTED)
    for (const k of Object.values(KEYS)) expect(text).not.toContain(k)
    expect(text).not.toContain(CANARY.openaiKey)
  }
})
