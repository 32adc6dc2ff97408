/** Shared by the Google tests and the conformance entries: canary key, provider config snippets, helpers. */
import { createParser } from 'eventsource-parser'
import type { RequestRecord, RequestSink } from '../../src/proxy/record'

/** The Gemini API key the gateway holds; distinctive so leak checks find it. */
export const GEMINI_KEY = 'AIza-test-CANARY-gemini-00000000000000000001'

/** The env var the service-account JSON comes from, as `credentials = "${…}"`. */
export const SA_ENV = 'TOLLGATE_TEST_GOOGLE_SA'

export function geminiToml(upstreamUrl: string, id = 'gemini'): string {
  return `[[providers]]\nid = "${id}"\napi = "gemini"\nbase_url = "${upstreamUrl}"\napi_key = "${GEMINI_KEY}"`
}

export interface VertexTomlOptions {
  id?: string
  /** Omit for Google's own endpoint for the region. */
  baseUrl?: string
  tokenUrl: string
  project?: string
  region?: string
  extra?: string
}

export function vertexToml(o: VertexTomlOptions): string {
  return [
    '[[providers]]',
    `id = "${o.id ?? 'google-vertex'}"`,
    'api = "google-vertex"',
    o.baseUrl ? `base_url = "${o.baseUrl}"` : '',
    `credentials = "\${${SA_ENV}}"`,
    `token_url = "${o.tokenUrl}"`,
    o.project ? `project = "${o.project}"` : '',
    o.region ? `region = "${o.region}"` : '',
    o.extra ?? '',
  ]
    .filter(Boolean)
    .join('\n')
}

/** The JSON payloads of a recorded SSE body, as a client would parse them. */
export function sseData(body: Uint8Array | string): unknown[] {
  const out: unknown[] = []
  const parser = createParser({ onEvent: (e) => out.push(JSON.parse(e.data)) })
  parser.feed(typeof body === 'string' ? body : new TextDecoder().decode(body))
  parser.feed('\n\n')
  return out
}

/** The SDK's parsed response as plain JSON, without the HTTP details @google/genai attaches. */
export function plain(sdkResult: object): unknown {
  const { sdkHttpResponse: _h, ...rest } = sdkResult as Record<string, unknown>
  return JSON.parse(JSON.stringify(rest))
}

/** Waits for a condition the gateway reaches asynchronously (a stream's record, a background refresh). */
export async function eventually(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return
    await Bun.sleep(5)
  }
  throw new Error(`never happened: ${what}`)
}

/** Collects the gateway's finished-request records. */
export function recordSink(): RequestSink & { records: RequestRecord[] } {
  const records: RequestRecord[] = []
  return { records, record: (r) => void records.push(r) }
}
