/**
 * A binary body (no error format to end it with, e.g. text-to-speech audio) that the upstream
 * cuts short reaches the client as a broken transfer, never as a clean but truncated file, and
 * the request is recorded as an upstream error.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { RequestRecord } from '../../src/proxy/record'
import { basicConfig, CANARY, startGateway, type TestGateway } from '../support/gateway'

let upstream: Server
let gateway: TestGateway
const records: RequestRecord[] = []

beforeAll(async () => {
  upstream = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/mpeg' })
    res.write(Buffer.alloc(4096, 7))
    // Part of the audio, then the connection dies.
    setTimeout(() => res.socket?.resetAndDestroy(), 30)
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  const port = (upstream.address() as AddressInfo).port
  gateway = await startGateway(basicConfig(`[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "http://127.0.0.1:${port}/v1"\napi_key = "sk-test-binary-cut"\n`, `[admin]\nenabled = false\n[pricing]\nunknown_model = "allow"\n`), {
    sinks: [{ record: (r) => void records.push(r) }],
  })
})

afterAll(async () => {
  await gateway?.stop()
  upstream?.close()
})

test('a cut binary body is a broken transfer for the client, and an upstream error in the record', async () => {
  const res = await fetch(`${gateway.url}/openai/audio/speech`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CANARY.gatewayKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tts-1', input: 'hello', voice: 'alloy' }),
  })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('audio/mpeg')
  let error: unknown
  await res.arrayBuffer().catch((e) => (error = e))
  expect(error).toBeDefined()
  for (let i = 0; i < 100 && !records.length; i++) await Bun.sleep(10)
  expect(records[0]).toMatchObject({ path: '/openai/audio/speech', status: 200, error: 'upstream_error' })
})
