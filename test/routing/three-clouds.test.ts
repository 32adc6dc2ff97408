/**
 * One routing group, three clouds: the official @anthropic-ai/sdk talks to `/claude/v1/messages`
 * and the group fails over Anthropic → Vertex (rawPredict) → Bedrock (invoke). Each target's own
 * plugin turns the same Anthropic request into its cloud's form; the client always gets Anthropic
 * format back (Bedrock's event-stream converted to SSE). Successful answers are real Anthropic
 * recordings (re-framed as Bedrock frames them for the Bedrock stream).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import type { AttemptRecord } from '../../src/proxy/record'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette, type Interaction } from '../support/recordings'
import { startFaultUpstream, type FaultUpstream } from '../support/fault-upstream'
import { startOAuthServer, type OAuthServer } from '../support/oauth-server'
import { sseJson } from '../support/sse'
import { BEDROCK, reframeAnthropicSse } from '../providers/bedrock/support'

const SA_ENV = 'TOLLGATE_TEST_ROUTING_SA'
const VERTEX_MODELS = { 'claude-sonnet-4-5-20250929': 'claude-sonnet-4-5@20250929', 'claude-3-opus-latest': 'claude-3-opus@20240229' }
const BEDROCK_MODELS = { 'claude-sonnet-4-5-20250929': 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-3-opus-latest': 'us.anthropic.claude-3-opus-20240229-v1:0' }
const aliases = (m: Record<string, string>) => `model_aliases = { ${Object.entries(m).map(([k, v]) => `"${k}" = "${v}"`).join(', ')} }`

let anthropic: FaultUpstream
let vertex: FaultUpstream
let bedrock: FaultUpstream
let oauth: OAuthServer
let gateway: TestGateway
let claude: Anthropic
let stream: Interaction
let json: Interaction

beforeAll(async () => {
  stream = (await loadCassette('anthropic', 'test_anthropic_model_thinking_part_redacted_stream')).interactions[0]!
  json = (await loadCassette('anthropic', 'test_anthropic_model_instructions')).interactions[0]!
  anthropic = await startFaultUpstream()
  vertex = await startFaultUpstream()
  bedrock = await startFaultUpstream()
  oauth = await startOAuthServer()
  gateway = await startGateway(
    basicConfig(`
[[providers]]
id = "anthropic"
api = "anthropic"
base_url = "${anthropic.url}"
api_key = "${CANARY.anthropicKey}"

[[providers]]
id = "vertex-claude"
api = "google-vertex"
base_url = "${vertex.url}"
credentials = "\${${SA_ENV}}"
token_url = "${oauth.tokenUrl}"
project = "claude-proj"
region = "us-east5"
${aliases(VERTEX_MODELS)}

[[providers]]
id = "bedrock-claude"
api = "bedrock"
base_url = "${bedrock.url}"
region = "${BEDROCK.region}"
api_key = "${BEDROCK.apiKey}"
${aliases(BEDROCK_MODELS)}

[[routes]]
name = "claude"
targets = [
  { provider = "anthropic", priority = 10 },
  { provider = "vertex-claude", priority = 5 },
  { provider = "bedrock-claude", priority = 1 },
]
`),
    { env: { [SA_ENV]: oauth.accountJson } },
  )
  claude = new Anthropic({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/claude`, maxRetries: 0 })
})
afterAll(async () => {
  await gateway.stop()
  await anthropic.stop()
  await vertex.stop()
  await bedrock.stop()
  oauth.stop()
})
beforeEach(() => {
  anthropic.reset()
  vertex.reset()
  bedrock.reset()
})

async function attempts(response: Response): Promise<Omit<AttemptRecord, 'ms'>[]> {
  await gateway.gw.requestLog.flush()
  const row = (await gateway.gw.database.client.execute({ sql: 'SELECT attempts FROM request_log WHERE id = ?', args: [response.headers.get('x-tollgate-request-id')!] })).rows[0]!
  return (JSON.parse(row.attempts as string) as AttemptRecord[]).map(({ ms: _, ...a }) => a)
}

const without = (o: unknown, ...keys: string[]) => Object.fromEntries(Object.entries(o as Record<string, unknown>).filter(([k]) => !keys.includes(k)))
const overloaded = { status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }
const unavailable = { status: 503, body: { error: { code: 503, message: 'The service is currently unavailable.', status: 'UNAVAILABLE' } } }

describe('Anthropic → Vertex → Bedrock', () => {
  test('a stream fails over twice and arrives from Bedrock as the recorded Anthropic events', async () => {
    anthropic.script(overloaded)
    vertex.script(unavailable)
    const frames = reframeAnthropicSse(stream.responseBody, { inputTokenCount: 92, outputTokenCount: 189, invocationLatency: 900, firstByteLatency: 300 })
    bedrock.script({ replay: { ...stream, status: 200, responseHeaders: { 'content-type': ['application/vnd.amazon.eventstream'] }, contentType: 'application/vnd.amazon.eventstream', responseBody: frames } })

    const { data, response } = await claude.beta.messages.create(stream.requestBody as Anthropic.Beta.MessageCreateParamsStreaming).withResponse()
    const events: unknown[] = []
    for await (const e of data) events.push(e)
    const want = sseJson(stream.responseBody, ['ping'])
    // Bedrock adds its invocation metrics to message_stop; everything before is the recording's.
    expect(events.slice(0, -1)).toEqual(want.slice(0, -1))
    expect(events.at(-1)).toMatchObject({ type: 'message_stop' })
    expect(response.headers.get('content-type')).toContain('text/event-stream')

    // Each cloud got the request in its own form.
    const sentByClient = stream.requestBody as Record<string, unknown>
    expect(anthropic.received[0]!.path.split('?')[0]).toBe('/v1/messages')
    expect(JSON.parse(anthropic.received[0]!.body)).toEqual(sentByClient)
    expect(vertex.received[0]!.path).toBe('/v1/projects/claude-proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict')
    expect(JSON.parse(vertex.received[0]!.body)).toEqual({ anthropic_version: 'vertex-2023-10-16', ...without(sentByClient, 'model') })
    expect(vertex.received[0]!.headers.authorization).toBe(`Bearer ${oauth.issued.at(-1)}`)
    expect(bedrock.received[0]!.path).toBe(`/model/${encodeURIComponent(BEDROCK_MODELS['claude-sonnet-4-5-20250929'])}/invoke-with-response-stream`)
    expect(JSON.parse(bedrock.received[0]!.body)).toEqual({ anthropic_version: 'bedrock-2023-05-31', ...without(sentByClient, 'model', 'stream') })
    expect(bedrock.received[0]!.headers.authorization).toBe(`Bearer ${BEDROCK.apiKey}`)
    for (const up of [anthropic, vertex, bedrock]) expect(JSON.stringify(up.received[0]!.headers)).not.toContain(CANARY.gatewayKey)

    expect(await attempts(response)).toEqual([
      { provider: 'anthropic', status: 529, error: 'upstream_529', failedOver: true },
      { provider: 'vertex-claude', status: 503, error: 'upstream_503', failedOver: true },
      { provider: 'bedrock-claude', status: 200, failedOver: false },
    ])
  })

  test('a JSON request answered by Vertex equals the recording; Bedrock is never asked', async () => {
    anthropic.script({ status: 429, body: { type: 'error', error: { type: 'rate_limit_error', message: 'Rate limited' } } })
    vertex.script({ replay: json })
    const { data, response } = await claude.messages.create(json.requestBody as Anthropic.MessageCreateParamsNonStreaming).withResponse()
    expect(data as unknown).toEqual(json.responseJson)
    expect(vertex.received[0]!.path).toBe('/v1/projects/claude-proj/locations/us-east5/publishers/anthropic/models/claude-3-opus@20240229:rawPredict')
    expect(bedrock.received).toHaveLength(0)
    expect((await attempts(response)).map((a) => [a.provider, a.status])).toEqual([
      ['anthropic', 429],
      ['vertex-claude', 200],
    ])
  })

  test('a Vertex stream cut after some events ends with an Anthropic error event; no failover to Bedrock', async () => {
    const firstFour = sseJson(new TextDecoder().decode(stream.responseBody).split(/(?<=\n\n)/).slice(0, 4).join(''), ['ping'])
    // The reset waits until the SDK has those events: Bun drops what the gateway has not read yet.
    const cut = Promise.withResolvers<void>()
    anthropic.script(overloaded)
    vertex.script({ replay: stream, resetAfter: 4, resetWhen: cut.promise })
    const { data: s, response } = await claude.beta.messages.create(stream.requestBody as Anthropic.Beta.MessageCreateParamsStreaming).withResponse()
    const events: unknown[] = []
    const err = await (async () => {
      for await (const e of s) if (events.push(e) >= firstFour.length) cut.resolve()
    })().catch((e) => e)
    expect(err).toBeInstanceOf(Anthropic.APIError)
    expect(err.error).toEqual({ type: 'error', error: { type: 'api_error', message: 'The upstream stream failed before it completed.' } })
    expect(events).toEqual(firstFour)
    expect(bedrock.received).toHaveLength(0)
    expect(await attempts(response)).toEqual([
      { provider: 'anthropic', status: 529, error: 'upstream_529', failedOver: true },
      { provider: 'vertex-claude', status: 200, error: 'upstream_error', failedOver: false },
    ])
  })

  test('when all three fail, the SDK gets the last (Bedrock) error as it was', async () => {
    anthropic.script(overloaded)
    vertex.script(unavailable)
    bedrock.script({ status: 429, body: { message: 'Too many requests, please wait before trying again.' }, headers: { 'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/' } })
    const err = await claude.messages.create(json.requestBody as Anthropic.MessageCreateParamsNonStreaming).catch((e) => e)
    expect(err).toBeInstanceOf(Anthropic.RateLimitError)
    expect(err.status).toBe(429)
    expect(err.error).toEqual({ message: 'Too many requests, please wait before trying again.' })
    expect(err.headers.get('x-amzn-errortype')).toStartWith('ThrottlingException')
  })
})
