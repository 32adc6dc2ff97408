/**
 * A config reload reaches telemetry: secrets added by the new config are redacted at once,
 * a project's content capture switches, and a new metrics token applies to the next scrape.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { parseConfig } from '../../src/config/load'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette, type Interaction } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver'

const NEW_SECRET = 'reloaded-CANARY-provider-header-0000001'
let chatJson: Interaction
let upstream: ReplayUpstream
let receiver: OtlpReceiver
let gateway: TestGateway

const toml = (capture: boolean, extra = '') =>
  basicConfig(
    `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${upstream.url}/v1"\napi_key = "${CANARY.openaiKey}"\n${extra}`,
    // Without the admin UI, a reload applies the file directly (with it, the admin directory merges it first).
    `[pricing]\nunknown_model = "allow"\n[logging]\nlevel = "off"\n[admin]\nenabled = false\n[otel]\nendpoint = "${receiver.url}"\ncapture_content = ${capture}\n`,
  )

beforeAll(async () => {
  chatJson = (await loadCassette('openai', 'test_max_completion_tokens[gpt-4o-mini]')).interactions[0]!
  upstream = startReplayUpstream([chatJson])
  receiver = startOtlpReceiver()
  gateway = await startGateway(toml(false))
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop()
  receiver.stop()
})

async function spanOfOneRequest(): Promise<Record<string, unknown>> {
  upstream.use([chatJson])
  const client = new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/openai`, maxRetries: 0 })
  const { response } = await client.chat.completions.create(chatJson.requestBody as OpenAI.ChatCompletionCreateParamsNonStreaming).withResponse()
  const id = response.headers.get('x-tollgate-request-id')!
  await gateway.gw.telemetry.flush()
  const spans = await receiver.waitFor((s) => s.some((x) => x.attributes['tollgate.request_id'] === id))
  return spans.find((x) => x.attributes['tollgate.request_id'] === id)!.attributes
}

test('new secrets, content capture and the metrics token follow a reload', async () => {
  expect(gateway.gw.telemetry.redactor.text(NEW_SECRET)).toBe(NEW_SECRET)
  expect((await spanOfOneRequest())['gen_ai.input.messages']).toBeUndefined()

  // [otel] itself applies after a restart; project content switches and secrets apply now.
  const next = toml(false, `headers = { "OpenAI-Organization" = "${NEW_SECRET}" }`).replace('[[projects]]\nid = "default"', '[[projects]]\nid = "default"\notel = { capture_content = true }') +
    `\n[metrics]\ntoken = "reloaded-metrics-token-000001"\n[database]\nurl = "file:${gateway.dir}/test.db"\n[log]\nflush_interval_ms = 50\n`
  await gateway.gw.reload(await parseConfig(next, 'reloaded.toml', {}))

  expect(gateway.gw.telemetry.redactor.text(`x ${NEW_SECRET} y`)).toBe('x [REDACTED] y')
  expect(JSON.parse(String((await spanOfOneRequest())['gen_ai.input.messages']))).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'hello' }] }])
  expect((await fetch(`${gateway.url}/metrics`)).status).toBe(401)
  expect((await fetch(`${gateway.url}/metrics`, { headers: { authorization: 'Bearer reloaded-metrics-token-000001' } })).status).toBe(200)
})
