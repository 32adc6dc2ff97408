/**
 * Error frames inside a 2xx AWS event-stream are redacted and framed again (valid CRCs: the
 * official AWS SDK still raises the error), whatever the network's cuts; every other frame
 * passes byte for byte, as the same chunk objects.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import {
  BedrockRuntimeClient,
  ConverseStreamCommand,
  InvokeModelWithResponseStreamCommand,
  ModelStreamErrorException,
  ThrottlingException,
} from '@aws-sdk/client-bedrock-runtime'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import Anthropic from '@anthropic-ai/sdk'
import { EventStreamCodec, type Message } from '@smithy/eventstream-codec'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../../support/gateway'
import { eventStreamErrorScreen } from '../../../src/providers/bedrock/error-frames'
import { frameDecoder } from '../../../src/providers/bedrock/eventstream'
import { BEDROCK, apiKeyProviderToml, chunkFrame, exceptionFrame, sigv4ProviderToml } from './support'

const codec = new EventStreamCodec(
  (b) => new TextDecoder().decode(b),
  (s) => new TextEncoder().encode(s),
)
const enc = new TextEncoder()

function eventFrame(type: string, body: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: enc.encode(JSON.stringify(body)),
  })
}

/** An `error` message (not an exception): its code and message are headers. */
function errorMessageFrame(code: string, message: string): Uint8Array {
  return codec.encode({
    headers: {
      ':error-code': { type: 'string', value: code },
      ':error-message': { type: 'string', value: message },
      ':message-type': { type: 'string', value: 'error' },
    },
    body: new Uint8Array(0),
  })
}

const concat = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts))
const decodeAll = (bytes: Uint8Array): Message[] => {
  const out: Message[] = []
  const d = frameDecoder((m) => out.push(m))
  d.push(bytes)
  expect(d.broken).toBe(false)
  expect(d.pending).toBe(false)
  return out
}
const redact = (s: string) => s.replaceAll(BEDROCK.apiKey, '[REDACTED]')

const START = eventFrame('messageStart', { role: 'assistant', p: 'abcdefgh' })
const DELTA = eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hello' }, p: 'abcd' })

describe('the screen alone', () => {
  test('ordinary frames come out as the same chunk objects, whole or cut anywhere', () => {
    const body = concat([START, DELTA, chunkFrame('{"type":"ping"}')])
    const screen = eventStreamErrorScreen(redact)
    expect(screen.push(body)).toBe(body)
    for (let cut = 1; cut < body.byteLength; cut++) {
      const s = eventStreamErrorScreen(redact)
      const out = concat([s.push(body.subarray(0, cut)), s.push(body.subarray(cut))])
      expect(Buffer.from(out).equals(Buffer.from(body))).toBe(true)
    }
  })

  test('an exception frame echoing the key is redacted at every cut, with valid CRCs; the frames before stay byte for byte', () => {
    const bad = exceptionFrame('throttlingException', `Too many requests for key ${BEDROCK.apiKey}`)
    const body = concat([START, DELTA, bad])
    for (let cut = 1; cut < body.byteLength; cut++) {
      const s = eventStreamErrorScreen(redact)
      const out = concat([s.push(body.subarray(0, cut)), s.push(body.subarray(cut))])
      expect(s.end()).toBeUndefined()
      expect(Buffer.from(out).includes(BEDROCK.apiKey)).toBe(false)
      expect(Buffer.from(out.subarray(0, START.byteLength + DELTA.byteLength)).equals(Buffer.from(concat([START, DELTA])))).toBe(true)
      const frames = decodeAll(out)
      expect(frames.map((m) => m.headers[':message-type']!.value)).toEqual(['event', 'event', 'exception'])
      expect(frames[2]!.headers[':exception-type']!.value).toBe('throttlingException')
      expect(JSON.parse(new TextDecoder().decode(frames[2]!.body))).toEqual({ message: 'Too many requests for key [REDACTED]' })
    }
  })

  test("an `error` message's headers are redacted too; one without a secret passes as it came", () => {
    const s = eventStreamErrorScreen(redact)
    const out = s.push(errorMessageFrame('InternalError', `upstream said ${BEDROCK.apiKey}`))
    const [m] = decodeAll(out)
    expect(m!.headers[':error-message']!.value).toBe('upstream said [REDACTED]')
    const clean = exceptionFrame('validationException', 'Malformed input request')
    expect(eventStreamErrorScreen(redact).push(clean)).toBe(clean)
  })

  test('headers of every type before `:message-type` are walked: an event passes, an exception is caught', () => {
    const headers = {
      a: { type: 'boolean', value: true },
      bb: { type: 'byte', value: 7 },
      c: { type: 'short', value: 300 },
      d: { type: 'integer', value: 70000 },
      e: { type: 'binary', value: new Uint8Array([1, 2, 3]) },
      f: { type: 'timestamp', value: new Date(0) },
      g: { type: 'uuid', value: '00000000-0000-4000-8000-000000000000' },
    } as const
    const ev = codec.encode({ headers: { ...headers, ':message-type': { type: 'string', value: 'event' } } as never, body: enc.encode(`{"k":"${BEDROCK.apiKey}"}`) })
    expect(eventStreamErrorScreen(redact).push(ev)).toBe(ev)
    const ex = codec.encode({ headers: { ...headers, ':message-type': { type: 'string', value: 'exception' }, ':exception-type': { type: 'string', value: 'throttlingException' } } as never, body: enc.encode(`{"message":"${BEDROCK.apiKey}"}`) })
    const [m] = decodeAll(eventStreamErrorScreen(redact).push(ex))
    expect(new TextDecoder().decode(m!.body)).toBe('{"message":"[REDACTED]"}')
    expect(m!.headers.d!.value).toBe(70000)
  })

  test('an unfinished frame at the end is dropped, not written half', () => {
    const s = eventStreamErrorScreen(redact)
    const bad = exceptionFrame('throttlingException', `key ${BEDROCK.apiKey}`)
    expect(s.push(bad.subarray(0, bad.byteLength - 5)).byteLength).toBe(0)
    expect(s.end()).toBeUndefined()
  })
})

describe('through the gateway, read by the official AWS SDK', () => {
  let upstream: ReturnType<typeof Bun.serve>
  let gateway: TestGateway
  /** The body the stub streams, and where it cuts it into writes. */
  let frames: Uint8Array[] = []
  let cuts: number[] = []

  beforeAll(async () => {
    upstream = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch() {
        const body = concat(frames)
        const at = [0, ...cuts, body.byteLength]
        let i = 0
        return new Response(
          new ReadableStream({
            async pull(c) {
              if (i >= at.length - 1) return c.close()
              c.enqueue(body.slice(at[i]!, at[i + 1]!))
              i++
              await Bun.sleep(3)
            },
          }),
          { headers: { 'content-type': 'application/vnd.amazon.eventstream' } },
        )
      },
    })
    const u = `http://127.0.0.1:${upstream.port}`
    gateway = await startGateway(basicConfig(apiKeyProviderToml(u) + '\n' + sigv4ProviderToml(u).replace('id = "bedrock"', 'id = "bedrock-sigv4"'), '[pricing]\nunknown_model = "allow"'))
  })
  afterAll(async () => {
    await gateway.stop()
    upstream.stop(true)
  })

  const client = (route: string) =>
    new BedrockRuntimeClient({
      region: 'us-east-1',
      endpoint: `${gateway.url}/${route}`,
      token: { token: CANARY.gatewayKey },
      authSchemePreference: ['httpBearerAuth'],
      requestHandler: new NodeHttpHandler(),
      maxAttempts: 1,
    })

  async function converseStream(route: string): Promise<{ texts: string[]; error: any }> {
    const res = await client(route).send(new ConverseStreamCommand({ modelId: 'amazon.nova-micro-v1:0', messages: [{ role: 'user', content: [{ text: 'hi' }] }] }))
    const texts: string[] = []
    try {
      for await (const ev of res.stream!) if (ev.contentBlockDelta?.delta?.text) texts.push(ev.contentBlockDelta.delta.text)
    } catch (e) {
      return { texts, error: e }
    }
    return { texts, error: undefined }
  }

  test('ConverseStream: a throttlingException echoing the Bedrock API key reaches the SDK as ThrottlingException, redacted, cut inside the key or not', async () => {
    const bad = exceptionFrame('throttlingException', `Too many requests for key ${BEDROCK.apiKey}`)
    const head = START.byteLength + DELTA.byteLength
    const inKey = head + Buffer.from(bad).indexOf(BEDROCK.apiKey)
    for (const c of [[], [head + 3], [inKey + 1], [inKey + 17, inKey + 30], [head + bad.byteLength - 2]]) {
      frames = [START, DELTA, bad]
      cuts = c
      const { texts, error } = await converseStream('bedrock')
      expect(texts).toEqual(['Hello'])
      expect(error).toBeInstanceOf(ThrottlingException)
      expect(error.message).toBe('Too many requests for key [REDACTED]')
    }
  })

  test('the SigV4 provider: its secret access key in a validationException is redacted', async () => {
    frames = [START, exceptionFrame('validationException', `signature of ${BEDROCK.secretAccessKey} did not match`)]
    cuts = [START.byteLength + 40]
    const { error } = await converseStream('bedrock-sigv4')
    expect(error?.name).toBe('ValidationException')
    expect(error.message).not.toContain(BEDROCK.secretAccessKey)
    expect(error.message).toContain('[REDACTED]')
  })

  test('InvokeModelWithResponseStream: a modelStreamErrorException is redacted', async () => {
    frames = [chunkFrame('{"type":"message_start","message":{"id":"m","usage":{"input_tokens":1,"output_tokens":1}}}'), exceptionFrame('modelStreamErrorException', `model failed, key=${BEDROCK.apiKey}`)]
    cuts = [frames[0]!.byteLength + 20]
    const res = await client('bedrock').send(
      new InvokeModelWithResponseStreamCommand({ modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0', contentType: 'application/json', body: enc.encode('{"anthropic_version":"bedrock-2023-05-31","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}') }),
    )
    let error: any
    try {
      for await (const _ of res.body!) void _
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ModelStreamErrorException)
    expect(error.message).toBe('model failed, key=[REDACTED]')
  })

  test('the Anthropic format on Bedrock: the exception becomes an Anthropic error event, redacted', async () => {
    frames = [chunkFrame('{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}'), exceptionFrame('throttlingException', `slow down, key ${BEDROCK.apiKey}`)]
    cuts = [frames[0]!.byteLength + 30]
    const c = new Anthropic({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/bedrock`, maxRetries: 0 })
    const stream = await c.messages.create({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }], stream: true })
    const err = await (async () => {
      for await (const _ of stream) void _
    })().catch((e) => e)
    expect(err).toBeInstanceOf(Anthropic.APIError)
    expect(err.message).toContain('slow down, key [REDACTED]')
  })

  test('2xx ordinary frames reach the client byte for byte, though they quote the key', async () => {
    const quoting = eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: `the key is ${BEDROCK.apiKey}` }, p: 'ab' })
    const stop = eventFrame('messageStop', { stopReason: 'end_turn' })
    const meta = eventFrame('metadata', { usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, metrics: { latencyMs: 1 } })
    frames = [START, quoting, stop, meta]
    cuts = [5, START.byteLength + 30, START.byteLength + quoting.byteLength]
    const r = await fetch(`${gateway.url}/bedrock/model/amazon.nova-micro-v1%3A0/converse-stream`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CANARY.gatewayKey}`, 'content-type': 'application/json' },
      body: '{"messages":[{"role":"user","content":[{"text":"hi"}]}]}',
    })
    expect(r.status).toBe(200)
    expect(Buffer.from(await r.arrayBuffer()).equals(Buffer.from(concat(frames)))).toBe(true)
  })
})
