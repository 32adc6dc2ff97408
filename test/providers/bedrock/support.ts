/** Shared pieces of the Bedrock tests: canary credentials, configs, SigV4 checks, re-framing. */
import { createHash, createHmac } from 'node:crypto'
import { expect } from 'bun:test'
import { SignatureV4 } from '@smithy/signature-v4'
import { EventStreamCodec } from '@smithy/eventstream-codec'
import type { ReceivedRequest } from '../../support/replay-upstream'
import type { Interaction } from '../../support/recordings'
import { sseEvents } from '../../support/sse'

/** Canary secrets, like test/support/gateway.ts's: distinctive so leak checks find them. */
export const BEDROCK = {
  region: 'us-east-1',
  accessKeyId: 'AKIATESTCANARY000001',
  secretAccessKey: 'test-CANARY-bedrock-secret-0000000000000001',
  sessionToken: 'test-CANARY-bedrock-session-token-000000001',
  apiKey: 'ABSK-test-CANARY-bedrock-api-key-00000001',
}

export function sigv4ProviderToml(upstreamUrl: string, extra = ''): string {
  return `[[providers]]
id = "bedrock"
api = "bedrock"
base_url = "${upstreamUrl}"
region = "${BEDROCK.region}"
access_key_id = "${BEDROCK.accessKeyId}"
secret_access_key = "${BEDROCK.secretAccessKey}"
${extra}`
}

export function apiKeyProviderToml(upstreamUrl: string, extra = ''): string {
  return `[[providers]]
id = "bedrock"
api = "bedrock"
base_url = "${upstreamUrl}"
region = "${BEDROCK.region}"
api_key = "${BEDROCK.apiKey}"
${extra}`
}

/** The recorded path as the gateway must send it: the model segment decoded, then encoded once. */
export function canonicalModelPath(pathAndQuery: string): string {
  return pathAndQuery.replace(/^\/model\/([^/?]+)/, (_, seg: string) => `/model/${encodeURIComponent(decodeURIComponent(seg))}`)
}

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/

export function expectSigV4Shape(h: Headers, region = BEDROCK.region): void {
  const m = AUTH.exec(h.get('authorization') ?? '')
  expect(m).not.toBeNull()
  const [, akid, day, reg, service, signed] = m!
  expect(akid).toBe(BEDROCK.accessKeyId)
  expect(reg).toBe(region)
  expect(service).toBe('bedrock')
  expect(h.get('x-amz-date')?.slice(0, 8)).toBe(day)
  expect(signed!.split(';')).toContain('host')
  expect(signed!.split(';')).toContain('x-amz-date')
}

/** node:crypto SHA-256 / HMAC-SHA-256 in the shape @smithy/signature-v4 expects. */
class NodeSha256 {
  private h
  constructor(secret?: string | Uint8Array | ArrayBuffer) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', typeof secret === 'string' ? secret : Buffer.from(secret as ArrayBuffer))
  }
  update(data: string | Uint8Array | ArrayBuffer) {
    this.h.update(typeof data === 'string' ? data : Buffer.from(data as ArrayBuffer))
  }
  async digest() {
    return new Uint8Array(this.h.digest())
  }
  reset() {}
}

/**
 * Recomputes the signature of a request the upstream received with the AWS SDK's own signer
 * (@smithy/signature-v4, not aws4fetch which the gateway uses), over the path exactly as it
 * arrived, and returns both Authorization values for comparison.
 */
export async function recomputeAuthorization(r: ReceivedRequest, creds: { sessionToken?: string } = {}): Promise<{ got: string; want: string }> {
  const got = r.headers.get('authorization') ?? ''
  const m = AUTH.exec(got)
  if (!m) return { got, want: '(not SigV4)' }
  const signedNames = m[5]!.split(';')
  const headers: Record<string, string> = {}
  for (const name of signedNames) headers[name] = r.headers.get(name) ?? ''
  const [pathOnly, query = ''] = r.pathAndQuery.split('?')
  const host = r.headers.get('host')!
  const amzDate = r.headers.get('x-amz-date')!
  const signer = new SignatureV4({
    service: 'bedrock',
    region: m[3]!,
    credentials: { accessKeyId: BEDROCK.accessKeyId, secretAccessKey: BEDROCK.secretAccessKey, sessionToken: creds.sessionToken },
    sha256: NodeSha256 as never,
    applyChecksum: false,
  })
  const signed = await signer.sign(
    {
      method: r.method,
      protocol: 'http:',
      hostname: host.split(':')[0]!,
      port: Number(host.split(':')[1]),
      path: pathOnly!,
      query: Object.fromEntries(new URLSearchParams(query)),
      headers,
      body: r.body,
    },
    { signingDate: new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`) },
  )
  return { got, want: String(signed.headers.authorization) }
}

const codec = new EventStreamCodec(
  (b) => new TextDecoder().decode(b),
  (s) => new TextEncoder().encode(s),
)

/**
 * Re-frames a recorded Anthropic SSE stream the way Bedrock's InvokeModelWithResponseStream
 * sends it: one event-stream `chunk` per event, its JSON base64 in `bytes`, invocation metrics
 * on `message_stop`. Used where no Bedrock invoke stream was recorded.
 */
export function reframeAnthropicSse(sse: Uint8Array | string, metrics?: Record<string, number>): Uint8Array {
  const frames: Uint8Array[] = []
  for (const ev of sseEvents(sse)) {
    if (ev.event === 'ping') continue
    let data = ev.data
    if (metrics && ev.event === 'message_stop') data = JSON.stringify({ ...JSON.parse(data), 'amazon-bedrock-invocationMetrics': metrics })
    frames.push(chunkFrame(data))
  }
  return Buffer.concat(frames)
}

/** One InvokeModelWithResponseStream `chunk` event carrying `data` (base64 in `bytes`, padded like Bedrock's). */
export function chunkFrame(data: string): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: 'chunk' },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: new TextEncoder().encode(JSON.stringify({ bytes: Buffer.from(data).toString('base64'), p: 'abcdefgh' })),
  })
}

/** An AWS event-stream exception frame, as Bedrock sends one mid-stream. */
export function exceptionFrame(type: string, message: string): Uint8Array {
  return codec.encode({
    headers: {
      ':exception-type': { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'exception' },
    },
    body: new TextEncoder().encode(JSON.stringify({ message })),
  })
}

/** The recorded event-stream as `{ eventType: payload }` objects, split with the codec. */
export function recordedEvents(body: Uint8Array): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  let at = 0
  while (at < body.length) {
    const len = new DataView(body.buffer, body.byteOffset + at).getUint32(0)
    const m = codec.decode(body.subarray(at, at + len))
    out.push({ [String(m.headers[':event-type']!.value)]: JSON.parse(new TextDecoder().decode(m.body)) })
    at += len
  }
  return out
}

/** What the SDK's schema keeps of a recorded event: no `p` padding field, no empty structures. */
export function asSdkParses(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(asSdkParses)
  if (v && typeof v === 'object') {
    const kept = Object.entries(v).filter(([k, x]) => k !== 'p' && !(x && typeof x === 'object' && !Array.isArray(x) && !Object.keys(x).length))
    return Object.fromEntries(kept.map(([k, x]) => [k, asSdkParses(x)]))
  }
  return v
}

/** An InvokeModelWithResponseStream interaction answering `body` (event-stream frames). */
export function streamInteraction(modelId: string, requestBody: unknown, body: Uint8Array): Interaction {
  const path = `/model/${encodeURIComponent(modelId)}/invoke-with-response-stream`
  return {
    method: 'POST',
    pathAndQuery: path,
    path,
    host: 'bedrock-runtime.us-east-1.amazonaws.com',
    requestHeaders: {},
    requestBody,
    status: 200,
    responseHeaders: { 'content-type': ['application/vnd.amazon.eventstream'] },
    responseBody: body,
    responseJson: undefined,
    contentType: 'application/vnd.amazon.eventstream',
  }
}
