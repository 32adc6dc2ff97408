/**
 * A scriptable upstream that misbehaves on cue: error statuses, stalls before the headers or the
 * first body byte, and recorded streams that stall or reset the TCP connection after a number of
 * events. Built on node:http (not Bun.serve) because it can send a real reset
 * (`socket.resetAndDestroy()`) and hold headers and body apart. Successful answers replay real
 * recordings (test/support/recordings.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Interaction } from './recordings'

export type Fault =
  /** Answer with this status (and body, JSON-encoded unless a string). */
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** Accept the request and never answer. */
  | { stall: 'headers' }
  /** Send 200 headers of an event stream, then nothing. */
  | { stall: 'body' }
  /**
   * Replay a recording; an event stream can stall or reset after some events, or trickle one event
   * per `everyMs`. `resetWhen` holds the reset until it settles: Bun drops what a socket has not
   * read yet when a reset arrives (the kernel would still hand it over), so a test that asserts
   * which events got through resolves it once its client has them, i.e. once the gateway read them.
   */
  | { replay: Interaction; stallAfter?: number; resetAfter?: number; resetWhen?: Promise<unknown>; everyMs?: number }

export interface FaultRequest {
  method: string
  path: string
  headers: Record<string, string | string[] | undefined>
  body: string
}

export interface FaultUpstream {
  url: string
  /** Faults for the next requests, in order; after them, `otherwise` answers. */
  script(...faults: Fault[]): void
  otherwise: Fault
  received: FaultRequest[]
  /** Requests whose connection the gateway closed while this upstream was stalling or streaming. */
  readonly abandoned: number
  /** Forgets the script and what was received (between tests). */
  reset(): void
  stop(): Promise<void>
}

/**
 * Every answer closes its connection: a pooled keep-alive socket that this server later times out
 * would otherwise meet the next request with a reset, and a test would see a failure it did not script.
 */
const CLOSE = { connection: 'close' }
const HOP = new Set(['content-length', 'transfer-encoding', 'connection', 'content-encoding', 'keep-alive'])

export async function startFaultUpstream(otherwise: Fault = { status: 500, body: { error: 'unscripted' } }): Promise<FaultUpstream> {
  const queue: Fault[] = []
  const received: FaultRequest[] = []
  const sockets = new Set<Socket>()
  const state = { abandoned: 0 }
  const up: FaultUpstream = {
    url: '',
    script: (...f) => void queue.push(...f),
    otherwise,
    received,
    get abandoned() {
      return state.abandoned
    },
    reset() {
      queue.length = 0
      received.length = 0
      state.abandoned = 0
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
  const server = createServer(async (req, res) => {
    const body = await readBody(req)
    received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body })
    const fault = queue.shift() ?? up.otherwise
    let finished = false
    res.on('finish', () => (finished = true))
    res.on('close', () => {
      if (!finished) state.abandoned++
    })
    serve(fault, res)
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  up.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return up
}

function serve(fault: Fault, res: ServerResponse): void {
  if ('status' in fault) {
    const text = typeof fault.body === 'string' ? fault.body : JSON.stringify(fault.body ?? {})
    res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers, ...CLOSE })
    res.end(text)
    return
  }
  if ('stall' in fault) {
    if (fault.stall === 'body') {
      res.writeHead(200, { 'content-type': 'text/event-stream', ...CLOSE })
      res.flushHeaders()
    }
    return
  }
  const x = fault.replay
  const headers: Record<string, string[]> = {}
  for (const [k, v] of Object.entries(x.responseHeaders)) if (!HOP.has(k)) headers[k] = v
  res.writeHead(x.status, { ...headers, ...CLOSE })
  const streamed = x.contentType.includes('event-stream')
  if (!streamed || (fault.stallAfter === undefined && fault.resetAfter === undefined && fault.everyMs === undefined)) {
    res.end(Buffer.from(x.responseBody))
    return
  }
  res.flushHeaders()
  const events = splitEvents(new TextDecoder().decode(x.responseBody))
  const cut = Math.min(fault.stallAfter ?? fault.resetAfter ?? Infinity, events.length)
  // One write per event, so the gateway really sees them arrive before the fault.
  let i = 0
  const next = () => {
    if (res.destroyed) return
    if (i < cut) {
      res.write(events[i++]!)
      setTimeout(next, fault.everyMs ?? 2)
      return
    }
    if (fault.resetAfter !== undefined) {
      const socket = res.socket
      // At the latest after 3 s: a gateway that lost an event then fails the test's assertions, not its time limit.
      if (fault.resetWhen) void Promise.race([fault.resetWhen, Bun.sleep(3000)]).then(() => socket?.resetAndDestroy())
      else socket?.resetAndDestroy()
    }
    else if (fault.stallAfter === undefined) res.end()
    // stallAfter: keep the connection open and silent.
  }
  // Let the headers leave before the first event (or the reset).
  setTimeout(next, 2)
}

/** SSE events with their blank-line terminators, as a provider writes them. */
export function splitEvents(text: string): string[] {
  return text.split(/(?<=\n\n)/).filter((e) => e.length)
}

/** A URL on loopback where nothing listens: connections are refused. */
export async function closedPortUrl(): Promise<string> {
  const l = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = l.port
  l.stop(true)
  return `http://127.0.0.1:${port}`
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
  })
}
