/**
 * Relays a streamed upstream body chunk by chunk, unchanged (the same Uint8Array objects, no
 * re-serialisation; a chunk over the buffer bound goes as views of it), while a decoder reads usage on the side. Reports the first byte and,
 * exactly once, how the stream ended. A client that goes away cancels this stream, which
 * aborts the upstream request. A stream cut by the upstream or a timeout ends with one
 * well-formed error event in the client's format, never a silent truncation; so does a body that
 * ends cleanly before its format's terminal event (`upstream_incomplete`).
 * Backpressure: bytes written to the response and not yet taken by the client's socket stay within
 * `server.stream_buffer_bytes` (StreamBuffers); at the bound the relay reads nothing more from the
 * upstream until the client catches up, and the upstream connection fills and stops.
 */
import { UpstreamError, UpstreamTimeoutError, type GatewayError } from '../errors'
import type { StreamDecoder, StreamScreen } from '../providers/types'
import type { AbortCause } from './timeouts'

/** One read of a body stream. */
type ChunkRead = { done: true; value?: undefined } | { done: false; value: Uint8Array }

export type StreamEnd = 'complete' | 'client_disconnected' | 'upstream_error' | 'upstream_incomplete' | 'idle_timeout' | 'total_timeout'

export interface StreamEvents {
  firstByte(): void
  end(how: StreamEnd, error?: unknown): void
  /**
   * Bytes that close a stream cut short, in the client's format. `undefined` (binary bodies)
   * errors the stream, so the client sees a broken transfer, not a clean end; `''` closes it
   * cleanly for a response conversion that writes its own error at the end.
   */
  errorTail?(how: StreamEnd, error: unknown): string | Uint8Array | undefined
  /**
   * Whether the events so far include the format's terminal one, asked when the body ends
   * cleanly: false makes that end `upstream_incomplete`, a cut like any other. Absent: any end is complete.
   */
  complete?(): boolean
  /** Rewrites chunks before they are written (error events redacted, src/proxy/redact-errors.ts); usually the same chunk. */
  screen?: StreamScreen
}

/**
 * What relays hold for slow clients: the per-stream bound and the bytes of all streams (admission
 * refuses new requests past its budget, src/proxy/admission.ts).
 */
export interface StreamBuffers {
  /** Bytes written to a response and not yet taken by its socket, over every relay. */
  bytes: number
  /** One relay's bound (`server.stream_buffer_bytes`). */
  readonly perStream: number
}

/** `server.stream_buffer_bytes`' default. */
export const STREAM_BUFFER_BYTES = 256 * 1024

/** How the relay learns why a read failed, and tells the idle watchdog when it waits. */
export interface RelayControl {
  abort(cause: AbortCause): void
  readonly cause: AbortCause | undefined
  waiting?(on: boolean): void
}

/** The gateway error a client's stream ends with when it was cut short. */
export function streamCutError(how: StreamEnd): GatewayError {
  if (how === 'idle_timeout') return new UpstreamTimeoutError('The upstream stream stalled (idle timeout).')
  if (how === 'total_timeout') return new UpstreamTimeoutError('The upstream response took longer than its total timeout.')
  if (how === 'upstream_incomplete') return new UpstreamError('The upstream stream ended before its final event.', 'upstream_incomplete')
  return new UpstreamError('The upstream stream failed before it completed.', 'upstream_stream_error')
}

export function meteredStream(
  upstream: ReadableStream<Uint8Array> | ReadableStreamDefaultReader<Uint8Array>,
  decoder: StreamDecoder,
  events: StreamEvents,
  control: RelayControl | AbortController,
  /** A chunk already read from `upstream` (the gateway reads one before it commits to a target). */
  first?: Uint8Array,
  buffers: StreamBuffers = { bytes: 0, perStream: STREAM_BUFFER_BYTES },
): ReadableStream<Uint8Array> {
  const reader = upstream instanceof ReadableStream ? upstream.getReader() : upstream
  const ctl: RelayControl = control instanceof AbortController ? abortControllerControl(control) : control
  let pending = first
  /** The last chunk relayed: whether it ended an event decides how an error event follows it. */
  let last: Uint8Array | undefined
  let started = false
  let ended = false
  let flushed = false
  /** The decoder gets the body's end once: a last event without its blank line still counts. */
  const flush = () => {
    if (flushed) return
    flushed = true
    try {
      decoder.end()
    } catch {
      // A malformed tail must not hide the usage read so far.
    }
  }
  const bound = buffers.perStream
  /** Bytes written to the response since its sink last said they were taken (counted in `buffers`). */
  let queued = 0
  const taken = () => {
    buffers.bytes -= queued
    queued = 0
  }
  const end = (how: StreamEnd, error?: unknown) => {
    if (ended) return
    ended = true
    taken()
    flush()
    events.end(how, error)
  }
  // Bun's direct stream: chunks go straight to the response sink, with no queue between (a
  // queued stream cost ~8 µs more CPU per proxied SSE response). The sink calls pull once.
  let cancelled = false
  /** A read failed: end the stream the way its cause calls for. */
  const fail = (c: DirectController, e: unknown) => {
    if (ctl.cause === 'client_disconnected') {
      end('client_disconnected', e)
      return c.close(e as Error)
    }
    cut(c, ctl.cause === 'idle_timeout' || ctl.cause === 'total_timeout' ? ctl.cause : 'upstream_error', e)
  }
  /** The stream ends short of its format's end: the client gets the format's error event. */
  const cut = (c: DirectController, how: StreamEnd, e: unknown) => {
    end(how, e)
    screenEnd(c)
    const tail = events.errorTail?.(how, e)
    if (tail === undefined) return c.close(brokenOff(how, e))
    // Text framing (SSE): after half an event, a blank line first, so the error event stands on its own.
    if (typeof tail === 'string' && tail.length && last && !endsEvent(last)) c.write('\n\n')
    if (tail.length) c.write(tail)
    c.close()
  }
  /** What the screen still holds (an error event without its blank line) goes out before the end. */
  const screenEnd = (c: DirectController) => {
    const rest = events.screen?.end()
    if (rest?.byteLength) {
      c.write(rest)
      last = rest
    }
  }
  const source = {
    type: 'direct' as const,
    async pull(c: DirectController) {
      let chunk: Uint8Array | undefined = pending
      pending = undefined
      /** Written but not yet flushed: bytes leave when the next read must wait (see below). */
      let unflushed = false
      while (!cancelled) {
        if (chunk) {
          if (!started) {
            started = true
            events.firstByte()
          }
          // The sink's write() answers a Promise while the client's socket is full, resolved once it
          // has drained; a number when it took the bytes (into its buffer: flush() hands them on).
          // A chunk larger than the bound goes in pieces, and the sink is flushed before the queue
          // would pass the bound, so no more than the bound is ever queued for this stream.
          const out = events.screen ? events.screen.push(chunk) : chunk
          for (let at = 0; at < out.length; ) {
            const piece = at === 0 && out.length <= bound ? out : out.subarray(at, at + bound)
            at += piece.length
            if (queued && queued + piece.length > bound) {
              const f = c.flush()
              if (typeof f !== 'number') await f
              if (cancelled) return
              taken()
            }
            queued += piece.length
            buffers.bytes += piece.length
            const written = c.write(piece)
            if (typeof written !== 'number') {
              await written
              if (cancelled) return
              taken()
            }
          }
          if (out.byteLength) {
            unflushed = true
            last = out
          }
          try {
            decoder.push(chunk)
          } catch {
            // Usage reading is best effort; the bytes are the client's either way.
          }
        }
        // A read the upstream already delivered is taken at once, without a turn of the event
        // loop, and the flush waits for a read that must wait: a burst of chunks (or a short
        // body that arrived whole) leaves in one socket write, and nothing is held back while
        // the upstream is quiet, so no latency is added.
        const read = reader.read() as Promise<ChunkRead>
        let r: ChunkRead
        if (Bun.peek.status(read) === 'fulfilled') r = Bun.peek(read) as ChunkRead
        else {
          try {
            if (unflushed) {
              unflushed = false
              const flushed = c.flush()
              if (typeof flushed !== 'number') await flushed
              if (!cancelled) taken()
            }
            ctl.waiting?.(true)
            r = await read
          } catch (e) {
            if (!cancelled) fail(c, e)
            return
          } finally {
            ctl.waiting?.(false)
          }
        }
        if (cancelled) return
        if (r.done) {
          flush()
          if (events.complete && !events.complete()) return cut(c, 'upstream_incomplete', undefined)
          end('complete')
          screenEnd(c)
          return c.close()
        }
        chunk = r.value
      }
    },
    cancel(reason: unknown) {
      cancelled = true
      // After its format's final event the client has the whole answer (and the usage with it):
      // leaving then, before the upstream closes its body, is a complete request, not a 499.
      if (events.complete?.()) end('complete')
      else end('client_disconnected', reason)
      ctl.abort('client_disconnected')
      void reader.cancel(reason).catch(() => {})
    },
  }
  return new ReadableStream(source as never) as ReadableStream<Uint8Array>
}

/** Whether a chunk of SSE ends with a blank line (`\n\n`, or `\r\n\r\n`). */
function endsEvent(chunk: Uint8Array): boolean {
  const n = chunk.length
  return n >= 2 && chunk[n - 1] === 10 && (chunk[n - 2] === 10 || (n >= 4 && chunk[n - 2] === 13 && chunk[n - 3] === 10))
}

/** The controller of Bun's `type: 'direct'` ReadableStream. */
interface DirectController {
  write(data: string | Uint8Array): number | Promise<number>
  flush(): number | Promise<number>
  close(error?: Error | string): void
}

/**
 * Why a body without an error format was broken off, as its stream's error. Bun prints that
 * error to stderr: an Error would come with a code frame of this file on every upstream reset,
 * where a string is one line saying what happened.
 */
function brokenOff(how: StreamEnd, e: unknown): string {
  const why = e === undefined ? 'no final event' : ((e as { code?: unknown }).code ?? (e instanceof Error ? e.message : String(e)))
  return `tollgate: an upstream body ended early (${how}: ${String(why)}); the client's transfer was broken off`
}

/** A plain AbortController as relay control (no timeouts): every abort is the client's. */
function abortControllerControl(abort: AbortController): RelayControl {
  return {
    abort: () => abort.abort(),
    get cause() {
      return abort.signal.aborted ? ('client_disconnected' as const) : undefined
    },
  }
}
