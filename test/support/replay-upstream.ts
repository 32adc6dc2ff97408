/**
 * A local upstream that answers exactly as a recorded provider did. Requests are matched on
 * method + path (+ query when recorded), then on the JSON body; every request it receives is
 * kept so tests can assert what crossed the gateway (headers, credential, body bytes).
 */
import { isDeepStrictEqual } from 'node:util'
import type { Interaction } from './recordings'

export interface ReceivedRequest {
  method: string
  pathAndQuery: string
  headers: Headers
  body: Uint8Array
  json: unknown
}

export interface ReplayOptions {
  /** Split streamed bodies into pieces of this many bytes (default 37, deliberately odd). */
  chunkSize?: number
  /** Pause between stream pieces, ms (default 0). */
  chunkDelayMs?: number
  /** Strip a path prefix the gateway's base_url adds before matching (e.g. none). */
  pathPrefix?: string
  /**
   * The recorded provider's own origins (`https://generativelanguage.googleapis.com`): in
   * response header values they become this server's URL, as the provider names itself.
   */
  selfOrigins?: string[]
}

export interface ReplayUpstream {
  url: string
  /** Switch to another cassette's interactions (and forget what was received). */
  use(interactions: Interaction[]): void
  received: ReceivedRequest[]
  /** Streams whose client went away before the end. */
  aborted: number
  stop(): void
}

const DROP_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'content-encoding', 'keep-alive'])

export function startReplayUpstream(interactions: Interaction[], opts: ReplayOptions = {}): ReplayUpstream {
  let used = new Set<number>()
  const received: ReceivedRequest[] = []
  const state = { aborted: 0 }
  const server: ReturnType<typeof Bun.serve> = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    idleTimeout: 0,
    async fetch(req): Promise<Response> {
      const u = new URL(req.url)
      const body = new Uint8Array(await req.arrayBuffer())
      let json: unknown
      try {
        json = body.length ? JSON.parse(new TextDecoder().decode(body)) : undefined
      } catch {
        json = undefined
      }
      received.push({ method: req.method, pathAndQuery: u.pathname + u.search, headers: req.headers, body, json })
      const i = match(interactions, used, req.method, u, json)
      if (i < 0) return Response.json({ error: `replay: no recorded interaction for ${req.method} ${u.pathname}${u.search}` }, { status: 418 })
      used.add(i)
      return respond(interactions[i]!, opts, req.signal, state, `http://127.0.0.1:${server.port}`)
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    use(next) {
      interactions = next
      used = new Set()
      received.length = 0
    },
    received,
    get aborted() {
      return state.aborted
    },
    stop: () => void server.stop(true),
  }
}

function match(list: Interaction[], used: Set<number>, method: string, u: URL, json: unknown): number {
  const candidates = list
    .map((x, i) => ({ x, i }))
    .filter(({ x }) => x.method === method && (x.pathAndQuery === u.pathname + u.search || x.path === u.pathname || samePath(x.path, u.pathname)))
  const sameBody = candidates.filter(({ x }) => json !== undefined && bodiesMatch(x.requestBody, json))
  // The same request may be recorded twice with different answers: take them in order.
  const byBody = sameBody.find(({ x, i }) => !used.has(i) && x.pathAndQuery === u.pathname + u.search) ?? sameBody.find(({ i }) => !used.has(i)) ?? sameBody[0]
  const next = byBody ?? candidates.find(({ i }) => !used.has(i)) ?? candidates[0]
  return next ? next.i : -1
}

/** Equal once percent-decoded: a recorded `v1:0` and a re-encoded `v1%3A0` are the same resource. */
function samePath(recorded: string, got: string): boolean {
  try {
    return decodeURIComponent(recorded) === decodeURIComponent(got)
  } catch {
    return false
  }
}

/** The gateway may add `stream_options.include_usage`; otherwise bodies must be equal. */
function bodiesMatch(recorded: unknown, got: unknown): boolean {
  if (isDeepStrictEqual(recorded, got)) return true
  if (got && typeof got === 'object' && 'stream_options' in got && !(recorded && typeof recorded === 'object' && 'stream_options' in recorded)) {
    const { stream_options: _, ...rest } = got as Record<string, unknown>
    return isDeepStrictEqual(recorded, rest)
  }
  return false
}

function respond(x: Interaction, opts: ReplayOptions, signal: AbortSignal, state: { aborted: number }, self: string): Response {
  const headers = new Headers()
  const own = (v: string) => opts.selfOrigins?.reduce((out, o) => (out.startsWith(`${o}/`) ? self + out.slice(o.length) : out), v) ?? v
  for (const [k, vs] of Object.entries(x.responseHeaders)) if (!DROP_HEADERS.has(k)) for (const v of vs) headers.append(k, own(v))
  const streamed = x.contentType.includes('event-stream') || x.contentType.includes('eventstream')
  if (!streamed) return new Response(x.responseBody, { status: x.status, headers })
  const size = opts.chunkSize ?? 37
  const delay = opts.chunkDelayMs ?? 0
  let at = 0
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (signal.aborted) return
      if (at >= x.responseBody.length) return c.close()
      if (delay) await Bun.sleep(delay)
      c.enqueue(x.responseBody.slice(at, at + size))
      at += size
    },
    cancel() {
      state.aborted++
    },
  })
  return new Response(body, { status: x.status, headers })
}
