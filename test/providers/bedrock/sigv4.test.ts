/**
 * SigV4 toward Bedrock: the test upstream recomputes the signature of every request it
 * receives with the AWS SDK's own signer (@smithy/signature-v4) and the configured test
 * credentials, over the path exactly as it arrived. A wrong canonical path encoding, an
 * unsigned header or a changed body makes the signatures differ.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../../support/gateway'
import type { ReceivedRequest } from '../../support/replay-upstream'
import { BEDROCK, expectSigV4Shape, recomputeAuthorization, sigv4ProviderToml } from './support'

let received: ReceivedRequest[] = []
let server: ReturnType<typeof Bun.serve>
let gateway: TestGateway

beforeAll(async () => {
  server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const u = new URL(req.url)
      const body = new Uint8Array(await req.arrayBuffer())
      received.push({ method: req.method, pathAndQuery: u.pathname + u.search, headers: req.headers, body, json: undefined })
      return Response.json({ output: { message: { role: 'assistant', content: [{ text: 'ok' }] } }, stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } })
    },
  })
  const toml = sigv4ProviderToml(`http://127.0.0.1:${server.port}`, `session_token = "${BEDROCK.sessionToken}"\nmodel_aliases = { "nova" = "us.amazon.nova-micro-v1:0", "claude-sonnet-4-5" = "us.anthropic.claude-sonnet-4-5-20250929-v1:0" }`)
  gateway = await startGateway(basicConfig(toml))
})
afterAll(async () => {
  await gateway.stop()
  server.stop(true)
})

const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] })

async function send(path: string, headers: Record<string, string> = {}, payload = body): Promise<ReceivedRequest> {
  received = []
  const res = await fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CANARY.gatewayKey}`, 'content-type': 'application/json', ...headers },
    body: payload,
  })
  expect(res.status).toBe(200)
  await res.arrayBuffer()
  expect(received.length).toBe(1)
  return received[0]!
}

async function expectValidSignature(r: ReceivedRequest) {
  expectSigV4Shape(r.headers)
  const { got, want } = await recomputeAuthorization(r, { sessionToken: BEDROCK.sessionToken })
  expect(got).toBe(want)
}

describe('SigV4 signing', () => {
  const cases: [string, string, string][] = [
    ['an encoded model id', '/bedrock/model/amazon.nova-micro-v1%3A0/converse', '/model/amazon.nova-micro-v1%3A0/converse'],
    ['an unencoded model id', '/bedrock/model/amazon.nova-micro-v1:0/converse-stream', '/model/amazon.nova-micro-v1%3A0/converse-stream'],
    ['an alias', '/bedrock/model/nova/converse', '/model/us.amazon.nova-micro-v1%3A0/converse'],
    [
      'an inference-profile ARN (a `/` inside the id)',
      `/bedrock/model/${encodeURIComponent('arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-micro-v1:0')}/invoke`,
      '/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.amazon.nova-micro-v1%3A0/invoke',
    ],
    ['the Anthropic format (alias → invoke)', '/bedrock/v1/messages', '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke'],
  ]
  for (const [label, path, upstreamPath] of cases) {
    test(`${label}: the path is encoded once on the wire and the signature verifies`, async () => {
      const payload = path.endsWith('/v1/messages') ? JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }) : body
      const r = await send(path, {}, payload)
      expect(r.pathAndQuery).toBe(upstreamPath)
      await expectValidSignature(r)
    })
  }

  test('the check fails for a path encoded differently from what was signed', async () => {
    const r = await send('/bedrock/model/amazon.nova-micro-v1%3A0/converse')
    const tampered = { ...r, pathAndQuery: '/model/amazon.nova-micro-v1:0/converse' }
    const { got, want } = await recomputeAuthorization(tampered, { sessionToken: BEDROCK.sessionToken })
    expect(got).not.toBe(want)
  })

  test('the session token is sent and signed; the body is signed as sent', async () => {
    const r = await send('/bedrock/model/nova/converse')
    expect(r.headers.get('x-amz-security-token')).toBe(BEDROCK.sessionToken)
    expect(r.headers.get('authorization')).toContain('x-amz-security-token')
    expect(new TextDecoder().decode(r.body)).toBe(body)
    const { got, want } = await recomputeAuthorization({ ...r, body: new TextEncoder().encode(body.replace('hi', 'ho')) }, { sessionToken: BEDROCK.sessionToken })
    expect(got).not.toBe(want)
  })

  test("the client's own x-amz-* headers never reach Bedrock; x-amzn-bedrock-* parameters do, signed", async () => {
    const r = await send('/bedrock/model/nova/converse', {
      'x-amz-date': '20000101T000000Z',
      'x-amz-security-token': 'client-token',
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      'x-amzn-bedrock-trace': 'ENABLED',
    })
    expect(r.headers.get('x-amz-security-token')).toBe(BEDROCK.sessionToken)
    expect(r.headers.get('x-amz-date')).not.toBe('20000101T000000Z')
    expect(r.headers.get('x-amz-content-sha256')).toBeNull()
    expect(r.headers.get('x-amzn-bedrock-trace')).toBe('ENABLED')
    expect(r.headers.get('authorization')).toContain('x-amzn-bedrock-trace')
    await expectValidSignature(r)
    for (const [, v] of r.headers) expect(v).not.toContain(CANARY.gatewayKey)
  })
})
