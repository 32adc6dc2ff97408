/**
 * A native Bedrock stream that stalls mid-way ends with an event-stream exception frame, so the
 * AWS SDK raises the stream's typed exception instead of seeing a silently truncated stream.
 * The upstream replays the first frames of a real recorded ConverseStream, then goes quiet.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { BedrockRuntimeClient, ConverseStreamCommand, type ConverseStreamCommandInput } from '@aws-sdk/client-bedrock-runtime'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../../support/gateway'
import { loadCassette, type Interaction } from '../../support/recordings'
import { sigv4ProviderToml } from './support'

let recorded: Interaction
let upstream: ReturnType<typeof Bun.serve>
let gateway: TestGateway

/** The byte offsets where each recorded event-stream frame ends. */
function frameEnds(body: Uint8Array): number[] {
  const ends: number[] = []
  for (let at = 0; at < body.length; ) {
    at += new DataView(body.buffer, body.byteOffset + at).getUint32(0)
    ends.push(at)
  }
  return ends
}

beforeAll(async () => {
  const c = await loadCassette('bedrock', 'test_bedrock_model_stream')
  recorded = c.interactions.find((x) => x.path.endsWith('/converse-stream'))!
  const cut = frameEnds(recorded.responseBody)[2]!
  upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    idleTimeout: 0,
    fetch: () =>
      new Response(
        new ReadableStream({
          start(ctl) {
            // Three whole frames, then silence: the gateway's idle timeout must end the stream.
            ctl.enqueue(recorded.responseBody.slice(0, cut))
          },
        }),
        { headers: { 'content-type': 'application/vnd.amazon.eventstream' } },
      ),
  })
  gateway = await startGateway(basicConfig(sigv4ProviderToml(`http://127.0.0.1:${upstream.port}`, 'timeouts = { idle_ms = 300 }'), '[pricing]\nunknown_model = "allow"'))
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop(true)
})

test('a stalled ConverseStream ends with a typed exception the AWS SDK raises', async () => {
  const client = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: `${gateway.url}/bedrock`,
    token: { token: CANARY.gatewayKey },
    authSchemePreference: ['httpBearerAuth'],
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 1,
  })
  const body = recorded.requestBody as Omit<ConverseStreamCommandInput, 'modelId'>
  const modelId = decodeURIComponent(recorded.path.split('/')[2]!)
  const res = await client.send(new ConverseStreamCommand({ ...body, modelId }))
  const seen: string[] = []
  const err = await (async () => {
    for await (const ev of res.stream!) seen.push(Object.keys(ev)[0]!)
  })().catch((e) => e)
  // The frames before the stall arrived as they were.
  expect(seen.length).toBeGreaterThanOrEqual(2)
  expect(err).toBeDefined()
  expect(err.name).toBe('ModelStreamErrorException')
  expect(err.message).toContain('stalled')
})
