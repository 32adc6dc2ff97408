/**
 * Stream usage is read from events, not network chunks: every recorded stream (SSE and AWS
 * event-stream) is re-split at every byte boundary and fed straight to the provider's decoder
 * and usage reader; the usage must equal the one read from the unsplit stream. Each stream
 * is also fed one byte at a time.
 */
import { describe, expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { providerApi } from '../../src/providers/registry'
import type { ProviderApi, ReportedUsage } from '../../src/providers/types'
import type { ProviderConfig } from '../../src/config/schema'
import { sseDecoder } from '../../src/proxy/sse'
import { RECORDINGS, listCassettes, loadCassette, type Interaction } from '../support/recordings'

const HOSTS: [string, string][] = [
  ['api.openai.com', 'openai'],
  ['api.anthropic.com', 'anthropic'],
  ['api.groq.com', 'groq'],
  ['generativelanguage.googleapis.com', 'gemini'],
  ['aiplatform.googleapis.com', 'google-vertex'],
  ['bedrock-runtime', 'bedrock'],
]

async function flavorOf(api: ProviderApi, x: Interaction): Promise<string> {
  const body = x.requestBody === undefined ? null : new TextEncoder().encode(typeof x.requestBody === 'string' ? x.requestBody : JSON.stringify(x.requestBody))
  const provider = { id: api.api, api: api.api, api_key: 'k', region: 'us-east-1', base_url: 'http://127.0.0.1:9' } as ProviderConfig
  try {
    const path = x.pathAndQuery.split('?')[0]!.replace(/^\/(v1\/)?/, api.api === 'openai' ? '' : '')
    const u = await api.prepare({ method: x.method, path, search: '', headers: new Headers(x.requestHeaders as unknown as Record<string, string>), body, json: typeof x.requestBody === 'object' ? (x.requestBody as Record<string, unknown>) : undefined, gatewayBase: '' }, provider)
    return u.flavor
  } catch {
    return 'default'
  }
}

function readAll(api: ProviderApi, flavor: string, pieces: Uint8Array[]): ReportedUsage | undefined {
  const reader = api.streamUsage(flavor)
  const decoder = api.streamDecoder?.(reader) ?? sseDecoder(reader)
  for (const p of pieces) decoder.push(p)
  decoder.end()
  return reader.result()
}

type Ev = [string | undefined, string]

/** The events a fresh decoder of this api yields for these pieces. */
function events(api: ProviderApi, pieces: Uint8Array[]): Ev[] {
  const out: Ev[] = []
  const rec = { event: (name: string | undefined, data: string) => void out.push([name, data]), result: () => undefined }
  const decoder = api.streamDecoder?.(rec) ?? sseDecoder(rec)
  for (const p of pieces) decoder.push(p)
  decoder.end()
  return out
}

/** Where each event ends: after a blank line (SSE) or at each frame's length prelude (AWS event-stream). */
function boundaries(bytes: Uint8Array, binary: boolean): number[] {
  const out: number[] = []
  if (binary) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    for (let at = 0; at + 4 <= bytes.length; ) out.push((at += view.getUint32(at)))
  } else {
    for (let i = 1; i < bytes.length; i++) if (bytes[i] === 10 && (bytes[i - 1] === 10 || (bytes[i - 1] === 13 && bytes[i - 2] === 10))) out.push(i + 1)
  }
  if (out.at(-1) !== bytes.length) out.push(bytes.length)
  return out
}

/** Split points inside one event: all of them, or for a large event its edges and a stride. */
function splitPoints(from: number, to: number): number[] {
  const pts: number[] = []
  const stride = to - from > 8192 ? 97 : 1
  for (let k = from + 1; k < to; k++) if (stride === 1 || k - from < 64 || to - k < 64 || (k - from) % stride === 0) pts.push(k)
  return pts
}

const streams: { name: string; api: ProviderApi; x: Interaction }[] = []
for (const folder of readdirSync(RECORDINGS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)) {
  for (const name of listCassettes(folder)) {
    for (const x of (await loadCassette(folder, name)).interactions) {
      if (!/event-stream|eventstream/.test(x.contentType) || x.status !== 200) continue
      const apiName = HOSTS.find(([h]) => x.host.includes(h))?.[1]
      const api = apiName && providerApi(apiName)
      if (api) streams.push({ name: `${folder}/${name}`, api, x })
    }
  }
}

describe('stream usage does not depend on chunking', () => {
  test('there are recorded streams with usage to split', () => {
    expect(streams.length).toBeGreaterThan(40)
  })

  for (const { name, api, x } of streams) {
    test(`${name} (${x.responseBody.length} bytes)`, async () => {
      const flavor = await flavorOf(api, x)
      const bytes = x.responseBody
      const whole = readAll(api, flavor, [bytes])
      const all = events(api, [bytes])
      // The usage read from the decoded events is the usage of the stream.
      const reader = api.streamUsage(flavor)
      for (const [n, d] of all) reader.event(n, d)
      expect(reader.result()).toEqual(whole)
      // A split anywhere inside an event yields that event whole; the decoder starts afresh at
      // each event boundary, so this covers every split of the whole stream.
      const ends = boundaries(bytes, /eventstream/.test(x.contentType))
      const joined: Ev[] = []
      let from = 0
      for (const to of ends) {
        const region = bytes.subarray(from, to)
        const want = events(api, [region])
        joined.push(...want)
        for (const k of splitPoints(from, to)) {
          const got = events(api, [bytes.subarray(from, k), bytes.subarray(k, to)])
          if (!Bun.deepEquals(got, want)) expect({ split: k, got }).toEqual({ split: k, got: want })
        }
        from = to
      }
      expect(joined).toEqual(all)
      // Whole-stream splits carrying state across boundaries: byte by byte, and in 2..7-byte runs.
      expect(readAll(api, flavor, Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1)))).toEqual(whole)
      const runs: Uint8Array[] = []
      for (let i = 0, n = 2; i < bytes.length; i += n, n = (n % 6) + 2) runs.push(bytes.subarray(i, i + n))
      expect(readAll(api, flavor, runs)).toEqual(whole)
    })
  }
})
