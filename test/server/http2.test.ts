/**
 * TLS and HTTP/2 on the gateway port ([server] tls_cert / tls_key / http2), against replayed
 * recordings: https with a test CA (HTTP/1.1 and h2 by ALPN), h2c prior knowledge beside
 * HTTP/1.1 in clear text, and the routes over HTTP/2 through a node:http2 client: a streamed
 * answer, native errors, a limit's refusal, the body limit, and a client that resets its stream.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import net from 'node:net'
import tls from 'node:tls'
import http2 from 'node:http2'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette, type Interaction } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'
import { createTestCa, type TestCa } from '../support/tls'
import { connect, request } from '../support/h2-client'
import { sigv4ProviderToml } from '../providers/bedrock/support'

let upstream: ReplayUpstream
let ca: TestCa
let certFile: string
let keyFile: string
const gateways: TestGateway[] = []

const LIMITED_KEY = 'tg-test-h2-limited-key-000000000000000000000'

async function gateway(server: string): Promise<TestGateway> {
  const providers = `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${upstream.url}/v1"\napi_key = "${CANARY.openaiKey}"\n\n${sigv4ProviderToml(upstream.url)}`
  const extra = `
[[keys]]
id = "limited"
project = "default"
user = "alice"
key = "${LIMITED_KEY}"
rate_limits = { rpm = 1 }

[pricing]
unknown_model = "allow"

[server]
max_body_bytes = 65536
${server}`
  const g = await startGateway(basicConfig(providers, extra))
  gateways.push(g)
  return g
}

beforeAll(async () => {
  // Streams arrive in pieces with a pause, so a reset can land mid-stream.
  upstream = startReplayUpstream([], { chunkDelayMs: 3 })
  ca = await createTestCa()
  ;({ certFile, keyFile } = await ca.issue('gateway-a'))
})
afterAll(async () => {
  for (const g of gateways) await g.stop()
  upstream.stop()
  ca.remove()
})

async function use(folder: string, name: string): Promise<Interaction[]> {
  const c = await loadCassette(folder, name)
  upstream.use(c.interactions)
  return c.interactions
}

const auth = (key = CANARY.gatewayKey) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' })

describe('https with a test CA', () => {
  let g: TestGateway
  beforeAll(async () => {
    g = await gateway(`http2 = true\ntls_cert = "${certFile}"\ntls_key = "${keyFile}"`)
  })

  test('HTTP/1.1 over TLS answers a client that trusts the CA; one that does not is refused', async () => {
    expect(g.url).toStartWith('https://127.0.0.1:')
    const ok = await fetch(`${g.url}/health`, { tls: { ca: ca.ca } } as RequestInit)
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ status: 'ok' })
    const refused = await fetch(`${g.url}/health`).then(() => 'answered', (e: Error) => e.message)
    expect(refused).not.toBe('answered')
  })

  test('ALPN: h2 for a client that offers it, http/1.1 for one that does not, on the same port', async () => {
    const alpn = (protocols: string[]) =>
      new Promise<string | false>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: g.server.port, ca: ca.ca, ALPNProtocols: protocols, servername: 'localhost' }, () => {
          resolve(s.alpnProtocol ?? false)
          s.destroy()
        })
        s.on('error', reject)
      })
    expect(await alpn(['h2', 'http/1.1'])).toBe('h2')
    expect(await alpn(['http/1.1'])).toBe('http/1.1')
    const session = await connect(g.url, { ca: ca.ca })
    try {
      const res = await request(session, { path: '/health' })
      expect(res.status).toBe(200)
      expect(JSON.parse(res.text)).toEqual({ status: 'ok' })
      expect((session.socket as tls.TLSSocket).getPeerCertificate().subject.CN).toBe('gateway-a')
    } finally {
      session.close()
    }
  })
})

test('TLS without http2 offers HTTP/1.1 only', async () => {
  const g = await gateway(`tls_cert = "${certFile}"\ntls_key = "${keyFile}"`)
  const got = await new Promise<string | false>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: g.server.port, ca: ca.ca, ALPNProtocols: ['h2', 'http/1.1'], servername: 'localhost' }, () => {
      resolve(s.alpnProtocol ?? false)
      s.destroy()
    })
    s.on('error', reject)
  })
  expect(got).toBe('http/1.1')
  expect((await fetch(`${g.url}/health`, { tls: { ca: ca.ca } } as RequestInit)).status).toBe(200)
})

test('h2c prior knowledge and HTTP/1.1 side by side on the clear-text port', async () => {
  const g = await gateway('http2 = true')
  expect(g.url).toStartWith('http://')
  // HTTP/1.1 exactly as a raw client sends it: the answer is HTTP/1.1 from Bun.serve.
  const raw = await new Promise<string>((resolve, reject) => {
    const s = net.connect(g.server.port, '127.0.0.1', () => s.write('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))
    let out = ''
    s.on('data', (d) => (out += d))
    s.on('end', () => resolve(out))
    s.on('error', reject)
  })
  expect(raw).toStartWith('HTTP/1.1 200')
  expect(raw).toEndWith('{"status":"ok"}')
  const session = await connect(g.url)
  try {
    const res = await request(session, { path: '/health' })
    expect(res.status).toBe(200)
    expect(JSON.parse(res.text)).toEqual({ status: 'ok' })
  } finally {
    session.close()
  }
})

test('without http2 the clear-text port is Bun.serve itself: h2c is not spoken', async () => {
  const g = await gateway('')
  const got = await connect(g.url).then(
    async (s) => {
      try {
        return await request(s, { path: '/health' }).then((r) => `answered ${r.status}`, (e: Error) => `failed: ${e.message}`)
      } finally {
        s.destroy()
      }
    },
    (e: Error) => `failed: ${e.message}`,
  )
  expect(got).toStartWith('failed')
})

for (const transport of ['h2c', 'h2 over TLS'] as const) {
  describe(`every route over HTTP/2 (${transport})`, () => {
    let g: TestGateway
    let session: http2.ClientHttp2Session
    beforeAll(async () => {
      g = await gateway(transport === 'h2c' ? 'http2 = true' : `http2 = true\ntls_cert = "${certFile}"\ntls_key = "${keyFile}"`)
      session = await connect(g.url, transport === 'h2c' ? {} : { ca: ca.ca })
    })
    afterAll(() => session.close())

    test('a streamed answer (SSE) arrives byte for byte as recorded', async () => {
      const xs = await use('openai', 'test_run_stream_sync_streams_real_model')
      const x = xs.find((i) => i.contentType.includes('event-stream'))!
      const res = await request(session, { path: '/openai/v1/chat/completions', headers: auth(), body: JSON.stringify(x.requestBody) })
      expect(res.status).toBe(200)
      expect(String(res.headers['content-type'])).toStartWith('text/event-stream')
      expect(res.text).toBe(new TextDecoder().decode(x.responseBody))
      // No connection-level header: HTTP/2 forbids them.
      expect(res.headers['transfer-encoding']).toBeUndefined()
      expect(res.headers.connection).toBeUndefined()
    })

    test('a non-streamed answer equals the recording', async () => {
      const [x] = await use('openai', 'test_max_completion_tokens[gpt-4o-mini]')
      const res = await request(session, { path: '/openai/v1/chat/completions', headers: auth(), body: JSON.stringify(x!.requestBody) })
      expect(res.status).toBe(200)
      expect(JSON.parse(res.text)).toEqual(x!.responseJson)
      expect(upstream.received.at(-1)!.headers.get('authorization')).toBe(`Bearer ${CANARY.openaiKey}`)
    })

    test('a bad key gets the native error shape and status; nothing goes upstream', async () => {
      upstream.use([])
      const res = await request(session, { path: '/openai/v1/chat/completions', headers: auth('tg-wrong-key-0000000000000000000000000000000'), body: '{"model":"gpt-4o-mini","messages":[]}' })
      expect(res.status).toBe(401)
      expect(JSON.parse(res.text)).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_api_key' } })
      expect(upstream.received.length).toBe(0)
    })

    test("a provider's recorded error reaches the client with its status, shape and error type", async () => {
      const [x] = await use('bedrock', 'test_bedrock_error')
      const res = await request(session, { path: `/bedrock${x!.path}`, headers: auth(), body: JSON.stringify(x!.requestBody) })
      expect(res.status).toBe(400)
      expect(JSON.parse(res.text)).toEqual(x!.responseJson)
    })

    test("the gateway's own errors keep their native shape and headers (Bedrock: x-amzn-errortype)", async () => {
      const res = await request(session, { path: '/bedrock/model/x/unknown-op', headers: auth(), body: '{}' })
      expect(res.status).toBe(404)
      expect(res.headers['x-amzn-errortype']).toBe('ResourceNotFoundException')
      expect(Object.keys(JSON.parse(res.text))).toEqual(['message'])
    })

    test("a rate limit's refusal is the native 429, and the upstream never sees it", async () => {
      const [x] = await use('openai', 'test_max_completion_tokens[gpt-4o-mini]')
      const body = JSON.stringify(x!.requestBody)
      const first = await request(session, { path: '/openai/v1/chat/completions', headers: auth(LIMITED_KEY), body })
      expect(first.status).toBe(200)
      const second = await request(session, { path: '/openai/v1/chat/completions', headers: auth(LIMITED_KEY), body })
      expect(second.status).toBe(429)
      expect(JSON.parse(second.text)).toMatchObject({ error: { type: 'rate_limit_exceeded', code: 'rate_limit_exceeded' } })
      expect(upstream.received.length).toBe(1)
    })

    test('a body over max_body_bytes is the native 413', async () => {
      upstream.use([])
      const big = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(70_000) }] })
      const res = await request(session, { path: '/openai/v1/chat/completions', headers: auth(), body: big })
      expect(res.status).toBe(413)
      expect(JSON.parse(res.text)).toMatchObject({ error: { type: 'invalid_request_error' } })
      expect(upstream.received.length).toBe(0)
    })

    test('a declared content-length past the hard stop is a 413 before any route runs', async () => {
      upstream.use([])
      const res = await request(session, { path: '/openai/v1/chat/completions', headers: { ...auth(), 'content-length': String(2 * 1024 * 1024) }, body: '{}' }).catch((e: Error) => e.message)
      expect(typeof res === 'string' ? res : res.status).toBe(413)
      expect(upstream.received.length).toBe(0)
      expect((await request(session, { path: '/health' })).status).toBe(200)
    })

    test('a client that resets its stream mid-answer stops the upstream stream', async () => {
      const xs = await use('openai', 'test_run_stream_sync_streams_real_model')
      const x = xs.find((i) => i.contentType.includes('event-stream'))!
      const before = upstream.aborted
      await new Promise<void>((resolve, reject) => {
        const s = session.request({ ':method': 'POST', ':path': '/openai/v1/chat/completions', ...auth() })
        s.once('data', () => {
          s.close(http2.constants.NGHTTP2_CANCEL)
          resolve()
        })
        s.on('error', reject)
        s.end(JSON.stringify(x.requestBody))
      })
      for (let i = 0; i < 100 && upstream.aborted === before; i++) await Bun.sleep(20)
      expect(upstream.aborted).toBe(before + 1)
      // The session itself is unharmed.
      expect((await request(session, { path: '/health' })).status).toBe(200)
    })
  })
}

test('shutdown over HTTP/2: an open stream finishes, the session gets GOAWAY (no new streams)', async () => {
  const g = await gateway('http2 = true')
  const session = await connect(g.url)
  const xs = await use('openai', 'test_run_stream_sync_streams_real_model')
  const x = xs.find((i) => i.contentType.includes('event-stream'))!
  let stopped: Promise<void> | undefined
  const body = await new Promise<string>((resolve, reject) => {
    const s = session.request({ ':method': 'POST', ':path': '/openai/v1/chat/completions', ...auth() })
    let text = ''
    s.on('data', (d: Buffer) => {
      // Mid-stream, as SIGTERM would.
      stopped ??= g.server.stop()
      text += d
    })
    s.on('end', () => resolve(text))
    s.on('error', reject)
    s.end(JSON.stringify(x.requestBody))
  })
  expect(body).toBe(new TextDecoder().decode(x.responseBody))
  await stopped
  const after = await request(session, { path: '/health' }).then((r) => `answered ${r.status}`, () => 'refused')
  expect(after).toBe('refused')
  session.destroy()
})
