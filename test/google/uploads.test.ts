/**
 * Google's resumable uploads through /gemini, with @google/genai against the recorded file search
 * flow (create a store, upload a document to it, ask with the fileSearch tool): the upload's
 * continuation URL is pointed back at the gateway, so the bytes cross it like every request,
 * with the provider key and never the gateway key.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { GoogleGenAI } from '@google/genai'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'
import { GEMINI_KEY, eventually, geminiToml, plain, recordSink } from './support'
import { prepareGemini } from '../../src/providers/gemini/upstream'
import type { ProviderConfig } from '../../src/config/schema'

const GOOGLE = 'https://generativelanguage.googleapis.com'
let upstream: ReplayUpstream
let gateway: TestGateway
const sink = recordSink()

beforeAll(async () => {
  upstream = startReplayUpstream([], { selfOrigins: [GOOGLE] })
  gateway = await startGateway(basicConfig(geminiToml(upstream.url)), { sinks: [sink] })
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop()
})

describe('resumable uploads through /gemini', () => {
  test('file search: the store, the upload (start and bytes) and the grounded answer equal the recording', async () => {
    const cassette = await loadCassette('google', 'test_google_model_file_search_grounding_gemini_3[False]')
    const x = cassette.interactions
    upstream.use(x)
    const ai = new GoogleGenAI({ apiKey: CANARY.gatewayKey, httpOptions: { baseUrl: `${gateway.url}/gemini`, apiVersion: 'v1beta' } })

    const store = await ai.fileSearchStores.create({ config: { displayName: 'test-file-search-grounding' } })
    expect(plain(store)).toEqual(x[0]!.responseJson)

    const text = x[2]!.requestBody as string
    const op = await ai.fileSearchStores.uploadToFileSearchStore({
      fileSearchStoreName: store.name!,
      file: new Blob([text], { type: 'text/plain' }),
      config: { mimeType: 'text/plain', customMetadata: [{ key: 'source_url', stringValue: 'https://example.com/paris' }] },
    })
    const recordedOp = x[2]!.responseJson as { name: string; response: { documentName: string } }
    expect(op.name).toBe(recordedOp.name)
    expect(op.response?.documentName).toBe(recordedOp.response.documentName)

    const answer = await ai.models.generateContent({
      model: 'gemini-3-flash-preview',
      contents: [{ role: 'user', parts: [{ text: 'What is the capital of France?' }] }],
      config: { responseModalities: ['TEXT'], tools: [{ fileSearch: { fileSearchStoreNames: [store.name!] } }] },
    })
    expect(answer.text).toContain('Paris')

    // Every request reached the upstream through the gateway: the bytes too, unchanged, at the
    // URL the start handed out. A client sent past the gateway would have carried the gateway key.
    const [create, start, bytes] = upstream.received
    expect(start!.pathAndQuery).toBe(x[1]!.pathAndQuery)
    expect(start!.headers.get('x-goog-upload-command')).toBe('start')
    expect(start!.headers.get('x-goog-upload-protocol')).toBe('resumable')
    expect(bytes!.pathAndQuery).toBe(x[2]!.pathAndQuery)
    expect(new TextDecoder().decode(bytes!.body)).toBe(text)
    expect(bytes!.headers.get('x-goog-upload-command')).toContain('finalize')
    for (const r of [create!, start!, bytes!, ...upstream.received.slice(3)]) {
      expect(r.headers.get('x-goog-api-key')).toBe(GEMINI_KEY)
      for (const [, v] of r.headers) expect(v).not.toContain(CANARY.gatewayKey)
    }
    // Uploads are logged and bill nothing.
    const uploads = () => sink.records.filter((r) => r.path.startsWith('/gemini/upload/'))
    await eventually(() => uploads().length === 2, 'both upload requests recorded')
    expect(uploads().every((r) => r.status === 200 && r.provider === 'gemini' && !r.costNanos)).toBe(true)
  })

  test('files.upload in several chunks: every chunk crosses the gateway, the file arrives whole', async () => {
    // No recording of the Files API upload exists; this upstream speaks the resumable protocol
    // as Google documents it: start → x-goog-upload-url; chunks at offsets; "finalize" → the file.
    const received: { command: string | null; offset: string | null; key: string | null; size: number }[] = []
    let bytes = new Uint8Array(0)
    const google: ReturnType<typeof Bun.serve> = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      async fetch(req): Promise<Response> {
        const u = new URL(req.url)
        const body = new Uint8Array(await req.arrayBuffer())
        const command = req.headers.get('x-goog-upload-command')
        received.push({ command, offset: req.headers.get('x-goog-upload-offset'), key: req.headers.get('x-goog-api-key'), size: body.length })
        if (u.pathname === '/upload/v1beta/files' && command === 'start') {
          return new Response(null, { headers: { 'x-goog-upload-status': 'active', 'x-goog-upload-url': `http://127.0.0.1:${google.port}/upload/v1beta/files?upload_id=u-1&upload_protocol=resumable` } })
        }
        if (u.searchParams.get('upload_id') === 'u-1' && Number(req.headers.get('x-goog-upload-offset')) === bytes.length) {
          const next = new Uint8Array(bytes.length + body.length)
          next.set(bytes)
          next.set(body, bytes.length)
          bytes = next
          if (!command?.includes('finalize')) return new Response(null, { headers: { 'x-goog-upload-status': 'active' } })
          const file = { name: 'files/abc123', mimeType: 'application/pdf', sizeBytes: String(bytes.length), uri: `https://generativelanguage.googleapis.com/v1beta/files/abc123`, state: 'ACTIVE' }
          return Response.json({ file }, { headers: { 'x-goog-upload-status': 'final' } })
        }
        return Response.json({ error: { code: 400, message: 'bad upload step', status: 'INVALID_ARGUMENT' } }, { status: 400 })
      },
    })
    const gw = await startGateway(basicConfig(geminiToml(`http://127.0.0.1:${google.port}`)))
    try {
      const ai = new GoogleGenAI({ apiKey: CANARY.gatewayKey, httpOptions: { baseUrl: `${gw.url}/gemini`, apiVersion: 'v1beta' } })
      const content = new Uint8Array(9 * 1024 * 1024 + 123).map((_, i) => (i * 7) % 251)
      const file = await ai.files.upload({ file: new Blob([content], { type: 'application/pdf' }), config: { mimeType: 'application/pdf' } })
      expect(file.name).toBe('files/abc123')
      expect(file.sizeBytes).toBe(String(content.length))
      expect(Buffer.compare(Buffer.from(bytes), Buffer.from(content))).toBe(0)
      expect(received.map((r) => [r.command, r.offset])).toEqual([
        ['start', null],
        ['upload', '0'],
        ['upload, finalize', String(8 * 1024 * 1024)],
      ])
      expect(received.every((r) => r.key === GEMINI_KEY)).toBe(true)
    } finally {
      await gw.stop()
      google.stop(true)
    }
  })

  test('under /proxy, the continuation URL stays under /proxy', async () => {
    const x = (await loadCassette('google', 'test_google_model_file_search_grounding_gemini_3[False]')).interactions
    upstream.use(x)
    const res = await fetch(`${gateway.url}/proxy/gemini${x[1]!.pathAndQuery}`, {
      method: 'POST',
      headers: { 'x-goog-api-key': CANARY.gatewayKey, 'content-type': 'application/json', 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start' },
      body: JSON.stringify(x[1]!.requestBody),
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-goog-upload-url')).toBe(`${gateway.url}/proxy/gemini${x[2]!.pathAndQuery}`)
    expect(res.headers.get('x-goog-upload-status')).toBe('active')
  })

  test('the continuation URL names the provider route; one on another host is not handed out', async () => {
    const provider = { id: 'gemini eu', api: 'gemini', api_key: 'k', base_url: 'https://generativelanguage.googleapis.com/' } as ProviderConfig
    const up = prepareGemini({ method: 'POST', path: 'upload/v1beta/files', search: '', headers: new Headers(), body: null, json: undefined, gatewayBase: 'https://gw.example/proxy' }, provider)
    expect(up.url).toBe('https://generativelanguage.googleapis.com/upload/v1beta/files')
    expect(up.model).toBeUndefined()
    const h = new Headers({
      'x-goog-upload-url': `${GOOGLE}/upload/v1beta/files?upload_id=abc&upload_protocol=resumable`,
      'x-goog-upload-control-url': 'https://elsewhere.example/upload?upload_id=abc',
      'x-goog-upload-status': 'active',
    })
    up.rewriteHeaders!(h)
    expect(h.get('x-goog-upload-url')).toBe('https://gw.example/proxy/gemini%20eu/upload/v1beta/files?upload_id=abc&upload_protocol=resumable')
    expect(h.get('x-goog-upload-control-url')).toBeNull()
    expect(h.get('x-goog-upload-status')).toBe('active')
  })
})
