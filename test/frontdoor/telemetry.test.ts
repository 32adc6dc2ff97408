/** Spans and metrics of a front-door request name the provider that served it, its model and route. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { startOAuthServer, type OAuthServer } from '../support/oauth-server'
import { SPAN_KIND, startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver'
import { sample } from '../telemetry/prom-text'
import { SA_ENV, endpoints, providersToml, recordings, startCompatUpstream, type CompatUpstream } from './support'

let up: CompatUpstream
let oauth: OAuthServer
let receiver: OtlpReceiver
let gateway: TestGateway

beforeAll(async () => {
  oauth = await startOAuthServer()
  receiver = startOtlpReceiver()
  up = startCompatUpstream(endpoints(oauth), await recordings())
  const otel = `[otel]\nendpoint = "${receiver.url}"\nservice_name = "tollgate-test"\n[metrics]\nenabled = true\n`
  gateway = await startGateway(basicConfig(providersToml(up.url, oauth), otel), { env: { [SA_ENV]: oauth.accountJson } })
})
afterAll(async () => {
  await gateway.stop()
  up.stop()
  oauth.stop()
  receiver.stop()
})

test('spans and metrics carry the real provider and model', async () => {
  const client = new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 })
  const { response } = await client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'hi' }] }).withResponse()
  const id = response.headers.get('x-tollgate-request-id')!
  await gateway.gw.telemetry.flush()
  const spans = await receiver.waitFor((s) => s.some((x) => x.attributes['tollgate.request_id'] === id))
  const server = spans.find((s) => s.attributes['tollgate.request_id'] === id)!
  expect(server.attributes['gen_ai.provider.name']).toBe('anthropic')
  expect(server.attributes['gen_ai.request.model']).toBe('claude-sonnet-4-5')
  const attempt = spans.find((s) => s.parentSpanId === server.spanId && s.kind === SPAN_KIND.client)!
  expect(attempt.attributes['gen_ai.provider.name']).toBe('anthropic')
  expect(server.attributes['gen_ai.usage.input_tokens']).toBe(35)
  expect(server.attributes['tollgate.route']).toBe('claude')
  const metrics = await (await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${CANARY.gatewayKey}` } })).text()
  expect(sample(metrics, 'tollgate_requests_total', { provider: 'anthropic', route: 'claude', status_class: '2xx' })).toBe(1)
})
