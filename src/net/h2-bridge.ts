/**
 * HTTP/2 streams into the gateway's fetch handler: Request in, Response out, bodies streamed
 * both ways with backpressure. A client that resets or closes its stream aborts the Request's
 * signal, so the proxy cancels the upstream call as it does for an HTTP/1.1 disconnect.
 */
import { h2Peers } from './peers'
import http2, { type Http2Server, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2'

type Handler = (request: Request) => Response | Promise<Response>

/** Connection-level headers HTTP/2 forbids (RFC 9113 §8.2.2); Bun/Elysia may set some on a Response. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings'])

export interface H2Bridge {
  server: Http2Server
  /** Open sessions: GOAWAY on shutdown lets their streams finish. */
  sessions: Set<Http2Session>
}

export interface H2BridgeOptions {
  scheme: 'http' | 'https'
  /** Request bodies past this many bytes are cut off (Bun.serve's `maxRequestBodySize` for HTTP/1.1). */
  maxBodyBytes: number
  /** A connection with no open stream and no traffic this long is closed (Bun.serve's `idleTimeout`). */
  idleTimeoutMs: number
}

export function createH2Bridge(handler: Handler, opts: H2BridgeOptions): H2Bridge {
  const server = http2.createServer()
  const sessions = new Set<Http2Session>()
  const open = new WeakMap<Http2Session, number>()
  server.on('session', (s) => {
    sessions.add(s)
    open.set(s, 0)
    s.on('close', () => sessions.delete(s))
    // A broken connection must never reach the process as an unhandled 'error'.
    s.on('error', () => {})
    // Idle means no stream at all: a long generation may be silent for minutes.
    s.setTimeout(opts.idleTimeoutMs, () => {
      if (!open.get(s)) s.close()
    })
  })
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {})
    const session = stream.session
    if (session) {
      open.set(session, (open.get(session) ?? 0) + 1)
      stream.once('close', () => open.set(session, (open.get(session) ?? 1) - 1))
    }
    void serveStream(handler, opts, stream as ServerHttp2Stream, headers)
  })
  return { server, sessions }
}

async function serveStream(handler: Handler, opts: H2BridgeOptions, stream: ServerHttp2Stream, h: IncomingHttpHeaders): Promise<void> {
  const abort = new AbortController()
  let done = false
  stream.once('close', () => {
    if (!done) abort.abort()
  })
  // Answered before the body was read in full (a 401, a 413): end the request side too
  // (RST_STREAM NO_ERROR, RFC 9113 §8.1), or the client may go on sending.
  stream.once('finish', () => {
    if (!stream.readableEnded && !stream.destroyed) stream.close(http2.constants.NGHTTP2_NO_ERROR)
  })
  const method = String(h[':method'] ?? 'GET')
  const authority = String(h[':authority'] ?? h.host ?? 'localhost')
  const headers = new Headers()
  for (const [name, value] of Object.entries(h)) {
    if (name.startsWith(':') || value === undefined) continue
    // HTTP/2 may split cookies into separate fields; as one field they are joined with "; " (RFC 9113 §8.2.3).
    if (name === 'cookie') headers.set(name, Array.isArray(value) ? value.join('; ') : value)
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v)
    else headers.set(name, String(value))
  }
  const hasBody = method !== 'GET' && method !== 'HEAD' && !stream.readableEnded
  let response: Response
  let request: Request | undefined
  try {
    request = new Request(`${opts.scheme}://${authority}${h[':path'] ?? '/'}`, {
      method,
      headers,
      body: hasBody ? requestBody(stream, opts.maxBodyBytes) : undefined,
      signal: abort.signal,
      // A streamed body needs it (the fetch standard; Bun accepts it).
      duplex: 'half',
    } as RequestInit)
  } catch {
    // An authority or path no URL can hold: what Bun.serve answers a malformed request line.
  }
  const peer = stream.session?.socket?.remoteAddress
  if (request && peer) h2Peers.set(request, peer)
  if (!request) response = new Response(null, { status: 400 })
  else if (Number(h['content-length']) > opts.maxBodyBytes) response = new Response(null, { status: 413 })
  else {
    try {
      response = await handler(request)
    } catch {
      response = new Response(null, { status: 500 })
    }
  }
  if (stream.destroyed || stream.closed) {
    await response.body?.cancel().catch(() => {})
    return
  }
  const out: Record<string, string | string[]> = { ':status': String(response.status) }
  for (const [name, value] of response.headers) {
    if (HOP_BY_HOP.has(name) || name === 'set-cookie') continue
    out[name] = value
  }
  const cookies = response.headers.getSetCookie()
  if (cookies.length) out['set-cookie'] = cookies
  const body = method === 'HEAD' || response.status === 204 || response.status === 304 ? null : response.body
  stream.respond(out, { endStream: !body })
  if (!body) {
    done = true
    return
  }
  const reader = body.getReader()
  try {
    while (true) {
      const { value, done: end } = await reader.read()
      if (end) break
      if (stream.destroyed) throw new Error('client gone')
      if (!stream.write(value)) await drained(stream)
    }
    done = true
    stream.end()
  } catch {
    // The client went away mid-stream: stop reading the upstream (cancels it) and drop the stream.
    await reader.cancel().catch(() => {})
    if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR)
  }
}

/** The request body as a byte stream that reads from the HTTP/2 stream only as fast as it is consumed. */
function requestBody(stream: ServerHttp2Stream, maxBytes: number): ReadableStream<Uint8Array> {
  stream.pause()
  let finished = false
  let received = 0
  return new ReadableStream<Uint8Array>({
    start(controller) {
      stream.on('data', (chunk: Buffer) => {
        if (finished) return
        received += chunk.byteLength
        if (received > maxBytes) {
          // The hard stop: the reader sees an error (the handler answers 413); the rest is dropped.
          finished = true
          controller.error(new Error('request body too large'))
          stream.resume()
          return
        }
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
        if ((controller.desiredSize ?? 0) <= 0) stream.pause()
      })
      stream.once('end', () => {
        if (finished) return
        finished = true
        controller.close()
      })
      stream.once('close', () => {
        if (!finished) controller.error(new Error('client reset the stream'))
      })
    },
    pull() {
      stream.resume()
    },
    cancel() {
      // The reader stopped early (e.g. the proxy's own body limit): later data is dropped.
      finished = true
      stream.resume()
    },
  }, { highWaterMark: 4 })
}

function drained(stream: ServerHttp2Stream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      stream.off('close', onClose)
      resolve()
    }
    const onClose = () => {
      stream.off('drain', onDrain)
      reject(new Error('client gone'))
    }
    stream.once('drain', onDrain)
    stream.once('close', onClose)
  })
}
