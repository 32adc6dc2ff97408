/**
 * The record errors of a response that did not arrive whole: every end of a stream but
 * `complete`, and a body that broke off. The upstream may have produced (and billed) tokens the
 * gateway never saw counted, so spend and token rate limits settle such a request on their
 * estimate, not on zero.
 */
import type { StreamEnd } from './stream'

// Keyed by StreamEnd: a new way for a stream to end must be placed here (the compiler asks).
const STREAM_CUTS: Record<Exclude<StreamEnd, 'complete'>, true> = {
  client_disconnected: true,
  upstream_error: true,
  upstream_incomplete: true,
  idle_timeout: true,
  total_timeout: true,
}

const CUT_SHORT: ReadonlySet<string> = new Set([
  ...Object.keys(STREAM_CUTS),
  // The gateway error a stream cut short ends with (streamCutError), and a non-streamed body that broke off.
  'upstream_stream_error',
  'upstream_body_error',
])

/** Whether a record's error says its response was cut short. */
export function cutShort(error: string | undefined): boolean {
  return error !== undefined && CUT_SHORT.has(error)
}
