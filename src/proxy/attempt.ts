/**
 * One upstream attempt: fetch under the provider's timeouts, then decide. Nothing reaches the
 * client until the attempt commits, so a failure before that point (connect error, timeout,
 * 429/5xx, a reset before the first body byte) can still fail over:
 * - a JSON answer commits once its whole body has arrived;
 * - a stream (or any other 2xx body) commits with its first chunk, then is relayed as it comes;
 * - a non-retryable error status (400, 401, …) commits as it is.
 */
import { GatewayError, UpstreamError, UpstreamTimeoutError } from '../errors'
import type { StreamDecoder } from '../providers/types'
import { connectRefusal } from '../net/upstream-guard'
import { markReachable, watchConnect } from './connect-probe'
import type { RouteTarget } from './routes'
import type { Exchange } from './exchange'
import type { UpstreamRequest } from '../providers/types'
import { responseHeaders } from './headers'
import { errorRedaction, redactErrorBody, sseErrorScreen } from './redact-errors'
import { sseDecoder } from './sse'
import type { StreamObserver } from './exchange'
import { observeStream } from './taps'
import { meteredStream, type StreamBuffers, type StreamEnd } from './stream'
import { AttemptWatchdog, timeoutsFor } from './timeouts'

/** Stateless without `stream: true`, so one serves every request. */
const utf8 = new TextDecoder()

/** A retryable error answer is kept (to hand back if every target fails) up to this size. */
const KEPT_ERROR_BODY_BYTES = 1024 * 1024

export interface AttemptSpec {
  target: RouteTarget
  upstream: UpstreamRequest
  headers: Headers
  /** Another target may follow: a 429/5xx answer is then held back instead of passed on. */
  canFailOver: boolean
  clientSignal: AbortSignal
  /** The request: its id, its start; the attempt notes the first byte's time, the usage and whether the answer came as events. */
  x: Pick<Exchange, 'id' | 'start' | 'ttfbMs' | 'usage' | 'eventStream'>
  /** The end of a stream cut short, in the client's format (see StreamEvents.errorTail). */
  errorTail(how: StreamEnd): string | Uint8Array | undefined
  /** What sees a committed stream's events beside its usage reader (telemetry, objects, the spend tap). */
  taps?(): StreamObserver[]
  /** The relay's buffer bound and the gauge it counts into (admission's); a private default without. */
  buffers?: StreamBuffers
}

/** An upstream answer kept in full, to pass on as it was. */
export interface UpstreamAnswer {
  status: number
  headers: Headers
  body: Uint8Array
}

export type AttemptResult =
  /** Goes to the client whole; `answer` is a 2xx JSON body as parsed for usage. */
  | { kind: 'committed'; status: number; headers: Headers; body: Uint8Array | null; streamed: false; error?: string; answer?: unknown }
  /** Goes to the client as a live relay; `done` says how it ended, once it has. */
  | { kind: 'committed'; status: number; headers: Headers; body: ReadableStream<Uint8Array>; streamed: true; done: Promise<StreamEnd> }
  /** Nothing reached the client; another target may be tried. */
  | { kind: 'failed'; status: number; error: string; timedOut: boolean; answer?: UpstreamAnswer; local?: boolean }
  | { kind: 'client_gone'; status: number }

/** Error codes of a connect that failed on this host (descriptors, buffers, ports), whatever the upstream. */
const LOCAL_CODES = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM', 'EADDRNOTAVAIL'])

export function isLocalFailure(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code
  return typeof code === 'string' && LOCAL_CODES.has(code)
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500
}

export async function runAttempt(spec: AttemptSpec): Promise<AttemptResult> {
  const { target, upstream, x } = spec
  const timeouts = timeoutsFor(target.provider)
  const dog = new AttemptWatchdog(timeouts, upstream.stream)
  if (spec.clientSignal.aborted) {
    dog.dispose()
    return { kind: 'client_gone', status: 0 }
  }
  const onClientGone = () => dog.abort('client_disconnected')
  spec.clientSignal.addEventListener('abort', onClientGone, { once: true })
  const release = () => {
    spec.clientSignal.removeEventListener('abort', onClientGone)
    dog.dispose()
  }
  /** Nothing was sent to the client: fail over, unless the client itself left. */
  const failed = (status: number, fallback: string, answer?: UpstreamAnswer): AttemptResult => {
    release()
    if (dog.cause === 'client_disconnected') return { kind: 'client_gone', status }
    return { kind: 'failed', status, error: dog.cause ?? fallback, timedOut: dog.timedOut, answer }
  }

  // Admin-made providers: the host is resolved again now, so DNS rebinding cannot reach inside.
  const refusal = connectRefusal(target.provider, upstream.url)
  if (refusal && (await refusal)) return failed(0, 'upstream_address_refused')
  const stopWatch = watchConnect(upstream.url, timeouts.connectMs, () => dog.abort('connect_timeout'))
  let res: Response
  try {
    res = await fetch(upstream.url, {
      method: upstream.method,
      headers: spec.headers,
      body: upstream.body,
      signal: dog.signal,
      redirect: 'manual',
      // The watchdog enforces idle and total; Bun's own 5-minute socket idle timer would cut long silences.
      timeout: false,
    })
  } catch (e) {
    stopWatch()
    // Out of sockets or file descriptors here: the gateway's own failure, not the provider's.
    if (isLocalFailure(e) && dog.cause === undefined) {
      release()
      return { kind: 'failed', status: 0, error: 'gateway_overloaded', timedOut: false, local: true }
    }
    return failed(0, 'connect')
  }
  stopWatch()
  markReachable(upstream.url)
  const status = res.status

  if (isRetryableStatus(status) && spec.canFailOver) {
    const kept = await readAll(res, dog, KEPT_ERROR_BODY_BYTES)
    // May reach the client (the last answer when every target fails): redacted like any error body.
    const body = kept && redactErrorBody(kept, target.provider, spec.headers)
    return failed(status, `upstream_${status}`, body ? { status, headers: res.headers, body } : undefined)
  }

  const headers = responseHeaders(res.headers, x.id)
  upstream.rewriteHeaders?.(headers)
  const contentType = res.headers.get('content-type') ?? ''
  // SSE, or the format's own binary framing (Bedrock's AWS event-stream), read by its streamDecoder.
  const framed = target.api.streamContentType !== undefined && contentType.includes(target.api.streamContentType)
  const eventStream = framed || contentType.includes('text/event-stream')
  const error = res.ok ? undefined : `upstream_${status}`

  if (!res.body || !res.ok || (contentType.includes('json') && !eventStream)) {
    // Whole bodies: JSON answers (usage is read from them) and error answers.
    const bytes = res.body ? await readAll(res, dog) : new Uint8Array()
    if (!bytes) return failed(status, 'upstream_body_error')
    release()
    x.ttfbMs = performance.now() - x.start
    let answer: unknown
    if (res.ok && bytes.byteLength) {
      try {
        answer = JSON.parse(utf8.decode(bytes))
        x.usage = target.api.jsonUsage(answer, upstream.flavor)
      } catch {
        // Not JSON after all; the client still gets the bytes as sent.
      }
    }
    // Error bodies are redacted (src/proxy/redact-errors.ts); 2xx bodies go as they came.
    const body = !res.ok ? redactErrorBody(bytes, target.provider, spec.headers) : upstream.convertJson ? upstream.convertJson(bytes) : bytes
    return { kind: 'committed', status, headers, body: res.body ? body : null, streamed: false, error, answer }
  }

  // Streams and other bodies: wait for the first chunk, so a reset or a stall before it can still fail over.
  const reader = res.body.getReader() as ReadableStreamDefaultReader<Uint8Array>
  let first: Awaited<ReturnType<typeof reader.read>>
  try {
    const read = reader.read()
    // Already delivered (usual when the headers and first bytes came in one packet): no turn of the event loop.
    first = Bun.peek.status(read) === 'fulfilled' ? (Bun.peek(read) as typeof first) : await read
  } catch {
    return failed(status, 'upstream_reset')
  }
  dog.gotFirstByte()
  x.ttfbMs = performance.now() - x.start
  if (eventStream) x.eventStream = true
  const usage = target.api.streamUsage(upstream.flavor)
  // The format's terminal event, watched beside usage: a body that ends before it is incomplete.
  const terminal = eventStream ? target.api.streamFormat(upstream.flavor).terminal() : undefined
  const events = eventStream ? observeStream(usage, [...(spec.taps?.() ?? []), ...(terminal ? [terminal] : [])]) : usage
  const decoder: StreamDecoder = eventStream ? (target.api.streamDecoder?.(events) ?? sseDecoder(events)) : { push() {}, end() {} }
  const conversion = upstream.convertStream
  let ended!: (how: StreamEnd) => void
  const done = new Promise<StreamEnd>((resolve) => (ended = resolve))
  let body: ReadableStream<Uint8Array> = meteredStream(
    reader,
    decoder,
    {
      firstByte: () => {},
      end: (how) => {
        spec.clientSignal.removeEventListener('abort', onClientGone)
        dog.dispose()
        if (eventStream) x.usage = usage.result()
        ended(how)
      },
      // A conversion writes the client's framing, and so its own error ending.
      errorTail: (how) => (!eventStream ? undefined : conversion ? '' : spec.errorTail(how)),
      complete: terminal && (() => terminal.complete),
      // Error events inside a 2xx stream are redacted like error bodies: SSE here, the format's own frames by its plugin.
      screen: !eventStream ? undefined : framed ? target.api.streamErrorScreen?.(errorRedaction(target.provider, spec.headers).text) : sseErrorScreen(errorRedaction(target.provider, spec.headers)),
    },
    dog,
    first.done ? undefined : first.value,
    spec.buffers,
  )
  if (conversion) {
    body = conversion.convert(body)
    headers.set('content-type', conversion.contentType)
  }
  return { kind: 'committed', status, headers, body, streamed: true, done }
}

/** The whole body under the attempt's idle and total timeouts, or undefined if it failed or exceeds `cap`. */
async function readAll(res: Response, dog: AttemptWatchdog, cap = Infinity): Promise<Uint8Array | undefined> {
  if (!res.body) return new Uint8Array()
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      dog.waiting(true)
      const { done, value } = await reader.read()
      dog.waiting(false)
      if (done) break
      size += value.byteLength
      if (size > cap) {
        void reader.cancel().catch(() => {})
        return undefined
      }
      chunks.push(value)
    }
  } catch {
    dog.waiting(false)
    return undefined
  }
  if (chunks.length === 1) return chunks[0]!
  return Buffer.concat(chunks)
}

/** The error a client gets when no target answered at all. */
export function noAnswerError(allTimedOut: boolean, providers: string[]): GatewayError {
  if (providers.length === 1) {
    const p = providers[0]
    return allTimedOut ? new UpstreamTimeoutError(`Provider "${p}" did not answer in time.`) : new UpstreamError(`Provider "${p}" could not be reached.`)
  }
  const list = providers.join(', ')
  return allTimedOut ? new UpstreamTimeoutError(`No provider of this route (${list}) answered in time.`) : new UpstreamError(`No provider of this route (${list}) could be reached.`)
}
