/**
 * Errors in Google's own shape, `{"error":{"code","message","status"}}`, which @google/genai raises
 * as ApiError with the HTTP status; and a stream cut short ending with an error event both
 * Google's and Anthropic's SDKs raise on (Vertex serves both formats).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ApiError, GoogleGenAI } from '@google/genai'
import Anthropic from '@anthropic-ai/sdk'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette } from '../support/recordings'
import { startOAuthServer, type OAuthServer } from '../support/oauth-server'
import { SA_ENV, geminiToml, vertexToml } from './support'

/** An upstream that answers 200 with part of a recorded stream, then drops the connection. */
function cuttingUpstream(partial: string) {
  const server = Bun.listen({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      data(socket) {
        const chunk = Buffer.from(partial)
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n${chunk.length.toString(16)}\r\n`)
        socket.write(chunk)
        socket.write('\r\n')
        socket.flush()
        // No terminating chunk: the body is cut.
        setTimeout(() => socket.end(), 20)
      },
    },
  })
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) }
}

let oauth: OAuthServer
let gateway: TestGateway
let cut: ReturnType<typeof cuttingUpstream>
let firstGeminiEvent: string
let firstAnthropicEvents: string

beforeAll(async () => {
  const gemini = (await loadCassette('google', 'test_google_model_stream')).interactions[0]!
  const text = new TextDecoder().decode(gemini.responseBody)
  firstGeminiEvent = text.slice(0, text.indexOf('\r\n\r\n') + 4)
  const claude = (await loadCassette('anthropic', 'test_request_stream_fallback_for_high_max_tokens')).interactions[0]!
  const ctext = new TextDecoder().decode(claude.responseBody)
  firstAnthropicEvents = ctext.slice(0, ctext.indexOf('event: ping'))
  oauth = await startOAuthServer()
  cut = cuttingUpstream(firstGeminiEvent)
  const toml = [
    geminiToml(cut.url),
    vertexToml({ baseUrl: cut.url, tokenUrl: oauth.tokenUrl }),
    vertexToml({ id: 'vertex-no-token', baseUrl: cut.url, tokenUrl: `${oauth.url}/nowhere` }),
  ].join('\n\n')
  gateway = await startGateway(basicConfig(toml), { env: { [SA_ENV]: oauth.accountJson } })
})
afterAll(async () => {
  await gateway.stop()
  cut.stop()
  oauth.stop()
})

const sdk = (key: string) => new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: `${gateway.url}/gemini`, apiVersion: 'v1beta', retryOptions: { attempts: 1 } } })
const hello = { model: 'gemini-2.5-flash', contents: 'hello' }

async function googleError(res: Response) {
  expect(res.headers.get('content-type')).toContain('application/json')
  const body = (await res.json()) as { error: { code: number; message: string; status: string } }
  expect(Object.keys(body)).toEqual(['error'])
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'status'])
  expect(body.error.code).toBe(res.status)
  return body.error
}

describe("gateway errors in Google's shape", () => {
  test('a bad key: 401 UNAUTHENTICATED, raised by @google/genai as ApiError', async () => {
    const err = await sdk('not-a-key').models.generateContent(hello).catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(401)
    const body = JSON.parse(err.message)
    expect(body.error).toEqual({ code: 401, message: 'Invalid or missing gateway key.', status: 'UNAUTHENTICATED' })
  })

  test('an unknown route from a Google client: 404 NOT_FOUND', async () => {
    const res = await fetch(`${gateway.url}/nope/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': CANARY.gatewayKey, 'content-type': 'application/json' },
      body: '{}',
    })
    expect(res.status).toBe(404)
    expect((await googleError(res)).status).toBe('NOT_FOUND')
  })

  test('bad JSON: 400 INVALID_ARGUMENT, on both Google routes', async () => {
    for (const route of ['gemini', 'google-vertex']) {
      const res = await fetch(`${gateway.url}/${route}/v1beta/models/gemini-2.5-flash:generateContent`, {
        method: 'POST',
        headers: { 'x-goog-api-key': CANARY.gatewayKey, 'content-type': 'application/json' },
        body: '{"contents": [',
      })
      expect(res.status).toBe(400)
      expect((await googleError(res)).status).toBe('INVALID_ARGUMENT')
    }
  })

  test('paths the providers do not serve: 404 NOT_FOUND, nothing upstream', async () => {
    const cases = [
      ['gemini', 'upload/files'],
      ['gemini', 'models/gemini-2.5-flash:generateContent'],
      ['google-vertex', 'v1/projects/p/locations/l/endpoints/123:predict'],
      ['google-vertex', 'v1beta1/publishers/google/models/gemini-2.5-flash:deleteEverything'],
      ['google-vertex', 'v1beta1/publishers/meta/models/llama:rawPredict'],
    ]
    for (const [route, path] of cases) {
      const res = await fetch(`${gateway.url}/${route}/${path}`, { method: 'POST', headers: { 'x-goog-api-key': CANARY.gatewayKey, 'content-type': 'application/json' }, body: '{}' })
      expect(res.status).toBe(404)
      expect((await googleError(res)).status).toBe('NOT_FOUND')
    }
  })

  test('no access token from the token endpoint: 502 UNAVAILABLE, no secret in the body', async () => {
    const res = await fetch(`${gateway.url}/vertex-no-token/v1beta1/publishers/google/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': CANARY.gatewayKey, 'content-type': 'application/json' },
      body: '{"contents":[]}',
    })
    expect(res.status).toBe(502)
    const text = await res.clone().text()
    const e = await googleError(res)
    expect(e.status).toBe('UNAVAILABLE')
    expect(e.message).toContain('access token')
    expect(text).not.toContain('PRIVATE KEY')
    expect(text).not.toContain(oauth.account.client_email)
  })
})

describe('a stream cut short ends with an error the client raises', () => {
  test('@google/genai (Gemini API): the first chunk, then ApiError', async () => {
    const stream = await sdk(CANARY.gatewayKey).models.generateContentStream(hello)
    const got: unknown[] = []
    const err = await (async () => {
      for await (const c of stream) got.push(c.text)
    })().catch((e) => e)
    expect(got).toEqual(['The'])
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(502)
    expect(err.message).toContain('UNAVAILABLE')
  })

  test('@google/genai (Vertex): the same', async () => {
    const ai = new GoogleGenAI({ vertexai: true, apiKey: CANARY.gatewayKey, httpOptions: { baseUrl: `${gateway.url}/google-vertex`, retryOptions: { attempts: 1 } } })
    const stream = await ai.models.generateContentStream(hello)
    const err = await (async () => {
      for await (const _ of stream) {
        // drain
      }
    })().catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(502)
  })

  test('@anthropic-ai/sdk on Vertex: the first events, then an APIError (not a silent end)', async () => {
    const claudeCut = cuttingUpstream(firstAnthropicEvents)
    const gw = await startGateway(basicConfig(vertexToml({ baseUrl: claudeCut.url, tokenUrl: oauth.tokenUrl, project: 'p', region: 'us-east5' })), {
      env: { [SA_ENV]: oauth.accountJson },
    })
    try {
      const c = new Anthropic({ apiKey: CANARY.gatewayKey, baseURL: `${gw.url}/google-vertex`, maxRetries: 0 })
      const stream = await c.messages.create({ model: 'claude-sonnet-4-5@20250929', max_tokens: 5, stream: true, messages: [{ role: 'user', content: 'hi' }] })
      const types: string[] = []
      const err = await (async () => {
        for await (const e of stream) types.push(e.type)
      })().catch((e) => e)
      expect(types).toEqual(['message_start', 'content_block_start'])
      expect(err).toBeInstanceOf(Anthropic.APIError)
      expect(String(err.message)).toContain('api_error')
    } finally {
      await gw.stop()
      claudeCut.stop()
    }
  })
})
