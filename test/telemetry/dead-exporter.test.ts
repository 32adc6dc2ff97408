/**
 * A trace backend that is down (connection refused) or hung (accepts, never answers) must not
 * fail or hold up requests: they complete normally while exports fail, and the lost spans are
 * counted in `tollgate_otel_spans_dropped_total`. A full export queue drops spans (counted)
 * instead of growing.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { TracerProvider } from '@opentelemetry/sdk-trace'
import { createDestination } from '../../src/telemetry/exporters'
import { Redactor } from '../../src/telemetry/redact'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette, type Interaction } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'
import { closedPortUrl } from '../support/fault-upstream'
import { startBlackhole } from '../support/otlp-receiver'
import { sample } from './prom-text'

let chatJson: Interaction
let chatStream: Interaction
let upstream: ReplayUpstream

beforeAll(async () => {
  chatJson = (await loadCassette('openai', 'test_max_completion_tokens[gpt-4o-mini]')).interactions[0]!
  chatStream = (await loadCassette('openai', 'test_openai_moderation_stream')).interactions.find((x) => x.contentType.includes('event-stream'))!
  upstream = startReplayUpstream([chatJson, chatStream])
})
afterAll(() => upstream.stop())

async function traffic(gateway: TestGateway, n: number): Promise<void> {
  const client = new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/openai`, maxRetries: 0 })
  const want = (chatJson.responseJson as { id: string }).id
  const results = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      if (i % 2) {
        const stream = await client.chat.completions.create(chatStream.requestBody as OpenAI.ChatCompletionCreateParamsStreaming)
        let chunks = 0
        for await (const _c of stream) chunks++
        return chunks > 0
      }
      const r = await client.chat.completions.create(chatJson.requestBody as OpenAI.ChatCompletionCreateParamsNonStreaming)
      return r.id === want
    }),
  )
  expect(results.every(Boolean)).toBe(true)
}

const metrics = async (gateway: TestGateway) => (await fetch(`${gateway.url}/metrics`)).text()

async function waitForDrops(gateway: TestGateway): Promise<number> {
  for (;;) {
    const n = sample(await metrics(gateway), 'tollgate_otel_spans_dropped_total', { destination: 'global', reason: 'export_failed' })
    if (n > 0) return n
    await Bun.sleep(50)
  }
}

describe('exporter endpoint refuses connections', () => {
  let gateway: TestGateway
  beforeAll(async () => {
    const dead = await closedPortUrl()
    gateway = await startGateway(basicConfig(`[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${upstream.url}/v1"\napi_key = "${CANARY.openaiKey}"`, `[pricing]\nunknown_model = "allow"\n[logging]\nlevel = "off"\n[otel]\nendpoint = "${dead}"\ntimeout_ms = 500`))
  })
  afterAll(() => gateway.stop())

  test('requests succeed and the lost spans are counted', async () => {
    await traffic(gateway, 12)
    void gateway.gw.telemetry.flush().catch(() => {})
    // 12 server spans and 12 attempt spans were sent to a dead port.
    expect(await waitForDrops(gateway)).toBe(24)
    expect(sample(await metrics(gateway), 'tollgate_otel_spans_exported_total')).toBe(0)
    await traffic(gateway, 4)
  })
})

describe('exporter endpoint accepts and never answers', () => {
  let gateway: TestGateway
  let hole: ReturnType<typeof startBlackhole>
  beforeAll(async () => {
    hole = startBlackhole()
    gateway = await startGateway(basicConfig(`[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${upstream.url}/v1"\napi_key = "${CANARY.openaiKey}"`, `[pricing]\nunknown_model = "allow"\n[logging]\nlevel = "off"\n[otel]\nendpoint = "${hole.url}"\ntimeout_ms = 1500`))
  })
  afterAll(async () => {
    await gateway.stop()
    hole.stop()
  })

  test('requests complete while an export hangs; the hung batch is dropped and counted', async () => {
    await traffic(gateway, 6)
    void gateway.gw.telemetry.flush().catch(() => {})
    // An export is now on the wire, unanswered.
    while (hole.connections === 0) await Bun.sleep(10)
    await traffic(gateway, 10)
    const inflight = sample(await metrics(gateway), 'tollgate_inflight_requests')
    expect(inflight).toBe(0)
    expect(await waitForDrops(gateway)).toBeGreaterThanOrEqual(12)
  })
})

test('a full export queue drops spans and counts them', async () => {
  const hole = startBlackhole()
  const drops: Record<string, number> = {}
  const dest = createDestination('global', { endpoint: hole.url, protocol: 'http/protobuf', timeoutMs: 60_000, maxQueue: 5, delayMs: 60_000 }, new Redactor(), {
    exported: () => {},
    dropped: (n, reason) => void (drops[reason] = (drops[reason] ?? 0) + n),
  })
  const tracer = new TracerProvider({ spanProcessors: [dest] }).getTracer('test')
  // The first 5 fill a batch that leaves at once and hangs at the blackhole; 5 more wait; 3 find the queue full.
  for (let i = 0; i < 13; i++) tracer.startSpan(`span ${i}`).end()
  while (hole.connections === 0) await Bun.sleep(10)
  expect(drops).toEqual({ queue_full: 3 })
  hole.stop()
})
