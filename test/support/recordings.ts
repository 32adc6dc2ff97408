/**
 * Loads the recorded provider traffic in test/fixtures/recordings (vcrpy YAML,
 * recorded by pydantic-ai's test suite, MIT licence, commit 4fda3898).
 */
import { readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const RECORDINGS = resolve(import.meta.dir, '../fixtures/recordings')

export interface Interaction {
  method: string
  /** Path and query as recorded, e.g. `/v1/messages?beta=true`. */
  pathAndQuery: string
  path: string
  host: string
  requestHeaders: Record<string, string[]>
  /** Parsed JSON request body, or the raw string, or undefined. */
  requestBody: unknown
  status: number
  responseHeaders: Record<string, string[]>
  /** The response body bytes exactly as the provider sent them. */
  responseBody: Uint8Array
  /** Parsed JSON response body, when the recording stored one. */
  responseJson: unknown
  contentType: string
}

export interface Cassette {
  name: string
  file: string
  interactions: Interaction[]
}

export function listCassettes(folder: string): string[] {
  return readdirSync(join(RECORDINGS, folder))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
}

export async function loadCassette(folder: string, name: string): Promise<Cassette> {
  const file = join(RECORDINGS, folder, name.endsWith('.yaml') ? name : `${name}.yaml`)
  // A few recordings are empty files; they hold no interactions.
  const doc = Bun.YAML.parse(decodeTextBinaries(await Bun.file(file).text())) as { interactions?: RawInteraction[] } | null
  return { name, file, interactions: (doc?.interactions ?? []).map(toInteraction) }
}

/**
 * Bun.YAML drops the `!!binary` tag and returns the base64 text, so a header recorded as
 * binary (Bedrock's `content-type`, `amz-sdk-request`) would read as base64. Scalars whose
 * bytes are printable UTF-8 become plain strings here; truly binary ones (event-streams,
 * images) stay base64 and are decoded per content type below.
 */
function decodeTextBinaries(yaml: string): string {
  return yaml.replace(/!!binary \|\n((?:[ \t]+[A-Za-z0-9+/=]+\n)+)/g, (whole, b64: string) => {
    const text = Buffer.from(b64.replace(/\s+/g, ''), 'base64').toString('utf8')
    if (text.includes('\ufffd') || /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(text)) return whole
    return `${JSON.stringify(text)}\n`
  })
}

interface RawInteraction {
  request: { method: string; uri: string; headers?: Record<string, string[]>; parsed_body?: unknown; body?: unknown }
  response: {
    status: { code: number }
    headers?: Record<string, string[]>
    parsed_body?: unknown
    body?: { string?: unknown } | string
  }
}

function toInteraction(raw: RawInteraction): Interaction {
  const u = new URL(raw.request.uri)
  const headers = lower(raw.response.headers ?? {})
  const contentType = headers['content-type']?.[0] ?? ''
  let responseBody: Uint8Array
  let responseJson: unknown
  if (raw.response.parsed_body !== undefined) {
    responseJson = raw.response.parsed_body
    responseBody = new TextEncoder().encode(JSON.stringify(raw.response.parsed_body))
  } else {
    const b = raw.response.body
    const s = typeof b === 'string' ? b : b?.string
    if (typeof s === 'string' && contentType.includes('vnd.amazon.eventstream')) {
      // `!!binary` values come back from Bun.YAML as base64 text with line breaks.
      responseBody = Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'base64'))
    } else if (s instanceof Uint8Array) {
      responseBody = s
    } else {
      responseBody = new TextEncoder().encode(typeof s === 'string' ? s : '')
    }
    if (contentType.includes('json')) {
      try {
        responseJson = JSON.parse(new TextDecoder().decode(responseBody))
      } catch {
        // leave undefined
      }
    }
  }
  let requestBody = raw.request.parsed_body
  if (requestBody === undefined && raw.request.body !== undefined && raw.request.body !== null) {
    const s = typeof raw.request.body === 'string' ? raw.request.body : (raw.request.body as { string?: string }).string
    try {
      requestBody = s ? JSON.parse(s) : undefined
    } catch {
      requestBody = s
    }
  }
  return {
    method: raw.request.method.toUpperCase(),
    pathAndQuery: u.pathname + u.search,
    path: u.pathname,
    host: u.host,
    requestHeaders: lower(raw.request.headers ?? {}),
    requestBody,
    status: raw.response.status.code,
    responseHeaders: headers,
    responseBody,
    responseJson,
    contentType,
  }
}

function lower(h: Record<string, string[] | string>): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = Array.isArray(v) ? v.map(String) : [String(v)]
  return out
}
