/**
 * The DEFAULT @aws-sdk/client-bedrock-runtime client (no `requestHandler`: it is the SDK's
 * NodeHttp2Handler, which speaks HTTP/2 only: h2c prior knowledge to an http:// endpoint, ALPN
 * h2 to an https:// one) through a gateway with `[server] http2 = true`, with only `endpoint`
 * and the gateway key as Bedrock API key changed: Converse, ConverseStream, InvokeModel and
 * InvokeModelWithResponseStream against replayed recordings. In this process (Bun) over h2c,
 * and in child processes (node, bun) over h2c and over TLS trusting a test CA through
 * NODE_EXTRA_CA_CERTS, as a user's process would.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  type ConverseCommandInput,
  type ConverseStreamCommandInput,
} from '@aws-sdk/client-bedrock-runtime'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../../support/gateway'
import { ROOT } from '../../support/cli'
import { loadCassette, type Interaction } from '../../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../../support/replay-upstream'
import { sseJson } from '../../support/sse'
import { createTestCa, type TestCa } from '../../support/tls'
import { asSdkParses, recordedEvents, reframeAnthropicSse, sigv4ProviderToml, streamInteraction } from './support'

let upstream: ReplayUpstream
let ca: TestCa
let h2c: TestGateway
let https: TestGateway
let plain: TestGateway

/** The four calls, and what the SDK must parse from each (from the recordings). */
interface Case {
  op: 'converse' | 'converseStream' | 'invoke' | 'invokeStream'
  input: Record<string, unknown>
  check(got: { status?: number; output?: unknown; events?: unknown[]; body?: unknown; error?: unknown }): void
}
let interactions: Interaction[]
let cases: Case[]

const modelOf = (x: Interaction) => decodeURIComponent(x.path.split('/')[2]!)

beforeAll(async () => {
  upstream = startReplayUpstream([])
  ca = await createTestCa()
  const leaf = await ca.issue('gateway')
  const config = (server: string) => basicConfig(sigv4ProviderToml(upstream.url), `[pricing]\nunknown_model = "allow"\n\n[server]\n${server}`)
  h2c = await startGateway(config('http2 = true'))
  https = await startGateway(config(`http2 = true\ntls_cert = "${leaf.certFile}"\ntls_key = "${leaf.keyFile}"`))
  plain = await startGateway(config(''))

  const [converse] = (await loadCassette('bedrock', 'test_bedrock_model')).interactions
  const [stream] = (await loadCassette('bedrock', 'test_bedrock_model_stream')).interactions
  const [invoke] = (await loadCassette('anthropic', 'test_anthropic_cache_bedrock_real_api')).interactions
  // No Bedrock invoke stream was recorded: an Anthropic stream re-framed as Bedrock sends it.
  const [anthropicStream] = (await loadCassette('anthropic', 'test_request_stream_fallback_for_high_max_tokens')).interactions
  const streamModel = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'
  const { model: _m, stream: _s, ...rest } = anthropicStream!.requestBody as Record<string, unknown>
  const invokeStreamBody = { anthropic_version: 'bedrock-2023-05-31', ...rest }
  const invokeStream = streamInteraction(streamModel, invokeStreamBody, reframeAnthropicSse(anthropicStream!.responseBody, { inputTokenCount: 20, outputTokenCount: 5 }))
  interactions = [converse!, stream!, invoke!, invokeStream]
  const wantChunks = sseJson(anthropicStream!.responseBody, ['ping'])
  cases = [
    {
      op: 'converse',
      input: { modelId: modelOf(converse!), ...(converse!.requestBody as object) },
      check: (got) => {
        expect(got.error).toBeUndefined()
        expect(got.status).toBe(200)
        expect(got.output).toEqual(converse!.responseJson)
      },
    },
    {
      op: 'converseStream',
      input: { modelId: modelOf(stream!), ...(stream!.requestBody as object) },
      check: (got) => {
        expect(got.error).toBeUndefined()
        expect(got.events).toEqual(asSdkParses(recordedEvents(stream!.responseBody)) as unknown[])
      },
    },
    {
      op: 'invoke',
      input: { modelId: modelOf(invoke!), contentType: 'application/json', accept: 'application/json', body: JSON.stringify(invoke!.requestBody) },
      check: (got) => {
        expect(got.error).toBeUndefined()
        expect(got.body).toEqual(invoke!.responseJson)
      },
    },
    {
      op: 'invokeStream',
      input: { modelId: streamModel, contentType: 'application/json', body: JSON.stringify(invokeStreamBody) },
      check: (got) => {
        expect(got.error).toBeUndefined()
        expect(got.events!.length).toBe(wantChunks.length)
        expect(got.events!.slice(0, -1)).toEqual(wantChunks.slice(0, -1))
        expect(got.events!.at(-1)).toMatchObject({ type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 20 } })
      },
    },
  ]
})
afterAll(async () => {
  for (const g of [h2c, https, plain]) await g?.stop()
  upstream.stop()
  ca.remove()
})

/** Runs test/providers/bedrock/sdk-child.mjs under `runtime` against `endpoint`. */
async function inChild(runtime: string, endpoint: string, env: Record<string, string> = {}) {
  upstream.use(interactions)
  const p = Bun.spawn([runtime, join(import.meta.dir, 'sdk-child.mjs')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', AWS_BEARER_TOKEN_BEDROCK: CANARY.gatewayKey, TOLLGATE_ENDPOINT: endpoint, ...env },
    stdin: new TextEncoder().encode(JSON.stringify(cases.map(({ op, input }) => ({ op, input })))),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  if (code !== 0) throw new Error(`${runtime} exited ${code}: ${err}`)
  return JSON.parse(out) as Parameters<Case['check']>[0][]
}

function checkAll(results: Parameters<Case['check']>[0][]) {
  expect(results.length).toBe(cases.length)
  cases.forEach((c, i) => c.check(results[i]!))
  // Every call crossed the gateway to the upstream, SigV4-signed by the gateway.
  expect(upstream.received.map((r) => r.pathAndQuery.split('/').at(-1))).toEqual(['converse', 'converse-stream', 'invoke', 'invoke-with-response-stream'])
  for (const r of upstream.received) expect(r.headers.get('authorization')).toStartWith('AWS4-HMAC-SHA256 ')
}

describe('the default Bedrock Runtime client, unchanged but for endpoint and key', () => {
  test('in this process over h2c: all four operations equal the recordings', async () => {
    upstream.use(interactions)
    const saved = process.env.AWS_BEARER_TOKEN_BEDROCK
    process.env.AWS_BEARER_TOKEN_BEDROCK = CANARY.gatewayKey
    const client = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: `${h2c.url}/bedrock`, maxAttempts: 1 })
    try {
      const results: Parameters<Case['check']>[0][] = []
      const { $metadata, ...output } = await client.send(new ConverseCommand(cases[0]!.input as unknown as ConverseCommandInput))
      results.push({ status: $metadata.httpStatusCode, output })
      const s = await client.send(new ConverseStreamCommand(cases[1]!.input as unknown as ConverseStreamCommandInput))
      const events: unknown[] = []
      for await (const e of s.stream!) events.push(JSON.parse(JSON.stringify(e)))
      results.push({ status: s.$metadata.httpStatusCode, events })
      const inv = await client.send(new InvokeModelCommand(cases[2]!.input as never))
      results.push({ status: inv.$metadata.httpStatusCode, body: JSON.parse(new TextDecoder().decode(inv.body)) })
      const is = await client.send(new InvokeModelWithResponseStreamCommand(cases[3]!.input as never))
      const chunks: unknown[] = []
      for await (const e of is.body!) chunks.push(JSON.parse(new TextDecoder().decode(e.chunk!.bytes)))
      results.push({ status: is.$metadata.httpStatusCode, events: chunks })
      checkAll(results)
    } finally {
      client.destroy()
      if (saved === undefined) delete process.env.AWS_BEARER_TOKEN_BEDROCK
      else process.env.AWS_BEARER_TOKEN_BEDROCK = saved
    }
  })

  const node = Bun.which('node')
  // node is what most SDK users run; bun is always here (it runs the tests).
  for (const [name, runtime] of [['node', node], ['bun', process.execPath]] as const) {
    test.skipIf(!runtime)(`a ${name} process over h2c`, async () => {
      checkAll(await inChild(runtime!, `${h2c.url}/bedrock`))
    })

    test.skipIf(!runtime)(`a ${name} process over TLS, trusting the test CA through NODE_EXTRA_CA_CERTS`, async () => {
      expect(https.url).toStartWith('https://127.0.0.1:')
      checkAll(await inChild(runtime!, `${https.url.replace('127.0.0.1', 'localhost')}/bedrock`, { NODE_EXTRA_CA_CERTS: ca.caFile }))
    })
  }

  test.skipIf(!node)('the same client without NODE_EXTRA_CA_CERTS does not trust the gateway', async () => {
    const [first] = await inChild(node!, `${https.url}/bedrock`)
    expect(first!.error).toBeDefined()
    expect(upstream.received.length).toBe(0)
  })

  test.skipIf(!node)('without [server] http2 the default client fails: it speaks only HTTP/2 (the "Protocol error")', async () => {
    const results = await inChild(node!, `${plain.url}/bedrock`)
    expect(results[0]!.error).toBeDefined()
    expect(JSON.stringify(results[0]!.error)).toMatch(/protocol error/i)
    expect(upstream.received.length).toBe(0)
  })
})
