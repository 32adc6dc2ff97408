/**
 * The front door's test world: one loopback upstream that plays every provider's OpenAI-compatible
 * endpoint. Each endpoint checks the exact path and credential that provider documents and that the
 * body names the provider's own model, then answers with a real OpenAI-format recording (its
 * `model` set to the one asked for). Anything else gets a 418 saying what did not match.
 */
import type { ReceivedRequest } from '../support/replay-upstream'
import { loadCassette, type Interaction } from '../support/recordings'
import { CANARY } from '../support/gateway'
import { BEDROCK } from '../providers/bedrock/support'
import type { OAuthServer } from '../support/oauth-server'

export const KEYS = {
  gemini: 'AIza-test-CANARY-gemini-00000000000001',
  mantle: 'ABSK-test-CANARY-mantle-api-key-0000001',
}

export interface Endpoint {
  /** Path on the upstream (the provider's base_url is `${url}/<id>`). */
  path: string
  /** The Authorization header it requires, or a check of it. */
  auth: string | ((h: string) => boolean)
}

export interface Recorded {
  chat: Interaction
  stream: Interaction
  toolStream: Interaction
}

export async function recordings(): Promise<Recorded> {
  // Gemini's own OpenAI-compatible endpoint answering a tool call; OpenAI chat streams (text, tool call).
  const chat = (await loadCassette('openai', 'test_compatible_api_with_tool_calls_without_id')).interactions[0]!
  const toolStream = (await loadCassette('openai', 'test_run_stream_sync_streams_real_model')).interactions[0]!
  const stream = (await loadCassette('openai', 'test_run_stream_sync_streams_real_model')).interactions[1]!
  return { chat, stream, toolStream }
}

/** An OpenAI embeddings answer in the shape OpenAI and Gemini's compat endpoint send (no recording of one exists). */
export function embeddingsBody(model: string, n: number): string {
  const data = Array.from({ length: n }, (_, i) => ({ object: 'embedding', index: i, embedding: [0.0123, -0.0456, 0.0789] }))
  return JSON.stringify({ object: 'list', data, model, usage: { prompt_tokens: 8 * n, total_tokens: 8 * n } })
}

export interface CompatUpstream {
  url: string
  received: (ReceivedRequest & { endpoint?: string })[]
  /** The next answers, in order, before the normal ones ({ status, body }). */
  script(...answers: { status: number; body: string | Uint8Array; contentType?: string }[]): void
  reset(): void
  stop(): void
}

function withModel(text: string, model: string): string {
  return text.replace(/"model":"[^"]*"/g, `"model":${JSON.stringify(model)}`)
}

export function startCompatUpstream(endpoints: Record<string, Endpoint>, rec: Recorded): CompatUpstream {
  const received: CompatUpstream['received'] = []
  const queue: { status: number; body: string | Uint8Array; contentType?: string }[] = []
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const url = new URL(req.url)
      const body = new Uint8Array(await req.arrayBuffer())
      let json: Record<string, unknown> | undefined
      try {
        json = JSON.parse(new TextDecoder().decode(body))
      } catch {}
      const entry = Object.entries(endpoints).find(([, e]) => e.path === url.pathname)
      received.push({ method: req.method, pathAndQuery: url.pathname + url.search, headers: req.headers, body, json, endpoint: entry?.[0] })
      const next = queue.shift()
      if (next) return new Response(next.body, { status: next.status, headers: { 'content-type': next.contentType ?? 'application/json' } })
      if (!entry) return new Response(`no endpoint at ${url.pathname}`, { status: 418 })
      const auth = req.headers.get('authorization') ?? ''
      const [, e] = entry
      if (typeof e.auth === 'string' ? auth !== e.auth : !e.auth(auth)) return new Response(`wrong credential at ${url.pathname}: ${auth.slice(0, 40)}`, { status: 418 })
      if (req.method !== 'POST' || !json || typeof json.model !== 'string') return new Response('not a compat request', { status: 418 })
      const model = json.model
      if (url.pathname.endsWith('/embeddings')) {
        const n = Array.isArray(json.input) ? json.input.length : 1
        return new Response(embeddingsBody(model, n), { headers: { 'content-type': 'application/json' } })
      }
      if (json.stream === true) {
        const so = json.stream_options as { include_usage?: boolean } | undefined
        if (so?.include_usage !== true) return new Response('stream without include_usage', { status: 418 })
        const r = json.tools ? rec.toolStream : rec.stream
        return new Response(withModel(new TextDecoder().decode(r.responseBody), model), { headers: { 'content-type': 'text/event-stream; charset=utf-8' } })
      }
      return new Response(withModel(new TextDecoder().decode(rec.chat.responseBody), model), { headers: { 'content-type': 'application/json', 'x-upstream': 'compat' } })
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    received,
    script: (...a) => void queue.push(...a),
    reset() {
      received.length = 0
      queue.length = 0
    },
    stop: () => void server.stop(true),
  }
}

export const SA_ENV = 'TOLLGATE_TEST_FRONTDOOR_SA'

/** Every provider of the issue, each pointed at its own prefix of the upstream. */
export function providersToml(up: string, oauth: OAuthServer): string {
  return `
[[providers]]
id = "openai"
api = "openai"
base_url = "${up}/openai/v1"
api_key = "${CANARY.openaiKey}"

[[providers]]
id = "anthropic"
api = "anthropic"
base_url = "${up}/anthropic"
api_key = "${CANARY.anthropicKey}"

[[providers]]
id = "groq"
api = "groq"
base_url = "${up}/groq"
api_key = "${CANARY.groqKey}"
models = ["openai/gpt-oss-120b", "llama-3.3-70b-versatile"]

[[providers]]
id = "gemini"
api = "gemini"
base_url = "${up}/gemini"
api_key = "${KEYS.gemini}"

[[providers]]
id = "vertex"
api = "google-vertex"
base_url = "${up}/vertex"
credentials = "\${${SA_ENV}}"
token_url = "${oauth.tokenUrl}"
project = "fd-proj"
region = "us-east5"

[[providers]]
id = "bedrock"
api = "bedrock"
base_url = "${up}/bedrock"
region = "${BEDROCK.region}"
access_key_id = "${BEDROCK.accessKeyId}"
secret_access_key = "${BEDROCK.secretAccessKey}"
model_aliases = { "claude-sonnet-4-5" = "us.anthropic.claude-sonnet-4-5-20250929-v1:0" }

[[providers]]
id = "mantle"
api = "bedrock"
base_url = "${up}/mantle"
region = "us-west-2"
api_key = "${KEYS.mantle}"
openai_endpoint = "mantle"

[[routes]]
name = "claude"
targets = [
  { provider = "bedrock", priority = 10 },
  { provider = "vertex", priority = 5 },
  { provider = "anthropic", priority = 1 },
]

[[aliases]]
name = "sonnet"
route = "claude"
model = "claude-sonnet-4-5"

[[aliases]]
name = "fast"
route = "groq"
model = "openai/gpt-oss-120b"
`
}

export function endpoints(oauth: OAuthServer): Record<string, Endpoint> {
  const vertexAuth = (h: string) => oauth.issued.some((t) => h === `Bearer ${t}`)
  const sigv4 = (h: string) => h.startsWith(`AWS4-HMAC-SHA256 Credential=${BEDROCK.accessKeyId}/`) && h.includes(`/${BEDROCK.region}/bedrock/aws4_request`)
  return {
    openai: { path: '/openai/v1/chat/completions', auth: `Bearer ${CANARY.openaiKey}` },
    'openai-embeddings': { path: '/openai/v1/embeddings', auth: `Bearer ${CANARY.openaiKey}` },
    anthropic: { path: '/anthropic/v1/chat/completions', auth: `Bearer ${CANARY.anthropicKey}` },
    groq: { path: '/groq/openai/v1/chat/completions', auth: `Bearer ${CANARY.groqKey}` },
    gemini: { path: '/gemini/v1beta/openai/chat/completions', auth: `Bearer ${KEYS.gemini}` },
    'gemini-embeddings': { path: '/gemini/v1beta/openai/embeddings', auth: `Bearer ${KEYS.gemini}` },
    vertex: { path: '/vertex/v1/projects/fd-proj/locations/us-east5/endpoints/openapi/chat/completions', auth: vertexAuth },
    bedrock: { path: '/bedrock/openai/v1/chat/completions', auth: sigv4 },
    mantle: { path: '/mantle/v1/chat/completions', auth: `Bearer ${KEYS.mantle}` },
  }
}
