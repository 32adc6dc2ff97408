/**
 * The official @anthropic-ai/sdk, pointed at the gateway, against replayed Anthropic
 * recordings; and Claude Code's request shapes (HEAD probe, Bearer and x-api-key).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'
import { sseJson } from '../support/sse'

let upstream: ReplayUpstream
let gateway: TestGateway

beforeAll(async () => {
  upstream = startReplayUpstream([])
  gateway = await startGateway(basicConfig(`[[providers]]\nid = "anthropic"\napi = "anthropic"\nbase_url = "${upstream.url}"\napi_key = "${CANARY.anthropicKey}"`))
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop()
})

async function use(name: string) {
  const c = await loadCassette('anthropic', name)
  upstream.use(c.interactions)
  return c.interactions
}

/** Both ways Claude Code and the SDK can carry the key. */
const clients = () => ({
  'x-api-key (ANTHROPIC_API_KEY)': new Anthropic({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/anthropic`, maxRetries: 0 }),
  'Bearer (ANTHROPIC_AUTH_TOKEN)': new Anthropic({ apiKey: null, authToken: CANARY.gatewayKey, baseURL: `${gateway.url}/anthropic`, maxRetries: 0 }),
})

describe('anthropic SDK through the gateway', () => {
  for (const label of ['x-api-key (ANTHROPIC_API_KEY)', 'Bearer (ANTHROPIC_AUTH_TOKEN)'] as const) {
    test(`messages equals the recording, key via ${label}`, async () => {
      const [x] = await use('test_anthropic_model_instructions')
      const client = clients()[label]
      const got = await client.beta.messages.create(x!.requestBody as Anthropic.Beta.MessageCreateParamsNonStreaming)
      expect(got as unknown).toEqual(x!.responseJson)
      const sent = upstream.received.at(-1)!
      expect(sent.pathAndQuery.split('?')[0]).toBe('/v1/messages')
      expect(sent.headers.get('x-api-key')).toBe(CANARY.anthropicKey)
      expect(sent.headers.get('authorization')).toBeNull()
    })
  }

  test('a stream yields the recorded events (pings dropped by the SDK)', async () => {
    const [x] = await use('test_anthropic_model_thinking_part_redacted_stream')
    const client = clients()['Bearer (ANTHROPIC_AUTH_TOKEN)']
    const stream = await client.beta.messages.create(x!.requestBody as Anthropic.Beta.MessageCreateParamsStreaming)
    const events: unknown[] = []
    for await (const e of stream) events.push(e)
    expect(events).toEqual(sseJson(x!.responseBody, ['ping']))
  })

  test('count_tokens equals the recording', async () => {
    const [x] = await use('test_anthropic_count_tokens_with_native_tools')
    const client = clients()['x-api-key (ANTHROPIC_API_KEY)']
    const got = await client.beta.messages.countTokens(x!.requestBody as Anthropic.Beta.MessageCountTokensParams)
    expect(got as unknown).toEqual(x!.responseJson)
  })

  test('models list passes through', async () => {
    const stub = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => Response.json({ data: [{ id: 'claude-x', type: 'model', display_name: 'X', created_at: '2025-01-01T00:00:00Z' }], has_more: false, first_id: 'claude-x', last_id: 'claude-x' }) })
    const gw = await startGateway(basicConfig(`[[providers]]\nid = "anthropic"\napi = "anthropic"\nbase_url = "http://127.0.0.1:${stub.port}"\napi_key = "${CANARY.anthropicKey}"`))
    try {
      const c = new Anthropic({ apiKey: CANARY.gatewayKey, baseURL: `${gw.url}/anthropic`, maxRetries: 0 })
      const ids: string[] = []
      for await (const m of c.models.list()) ids.push(m.id)
      expect(ids).toEqual(['claude-x'])
    } finally {
      await gw.stop()
      stub.stop(true)
    }
  })

  test('a recorded 4xx stays a typed SDK error', async () => {
    // No Anthropic error is recorded; the key check is the gateway's own 401.
    const c = new Anthropic({ apiKey: 'not-a-key', baseURL: `${gateway.url}/anthropic`, maxRetries: 0 })
    const err = await c.messages.create({ model: 'claude-3-5-haiku-latest', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e)
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError)
    expect(err.error).toEqual({ type: 'error', error: { type: 'authentication_error', message: 'Invalid or missing gateway key.' } })
  })
})

describe("Claude Code's request shapes", () => {
  test('HEAD on the base URL answers 200 before any auth', async () => {
    for (const p of ['/anthropic', '/proxy/anthropic']) {
      const res = await fetch(gateway.url + p, { method: 'HEAD' })
      expect(res.status).toBe(200)
    }
  })

  test('streamed /v1/messages?beta=true with anthropic-beta headers, under /proxy too', async () => {
    const [x] = await use('test_anthropic_model_thinking_part_redacted_stream')
    for (const base of ['/anthropic', '/proxy/anthropic']) {
      upstream.use([x!])
      const res = await fetch(`${gateway.url}${base}/v1/messages?beta=true`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${CANARY.gatewayKey}`,
          'anthropic-version': '2023-06-01',
          'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14',
          'content-type': 'application/json',
          'user-agent': 'claude-cli/2.0.0 (external, cli)',
        },
        body: JSON.stringify(x!.requestBody),
      })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toContain('text/event-stream')
      expect(await res.text()).toBe(new TextDecoder().decode(x!.responseBody))
      const sent = upstream.received.at(-1)!
      expect(sent.headers.get('anthropic-beta')).toBe('claude-code-20250219,interleaved-thinking-2025-05-14')
      expect(sent.headers.get('user-agent')).toMatch(/^claude-cli\/2\.0\.0 \(external, cli\) tollgate\//)
    }
  })
})
