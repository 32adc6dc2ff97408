/**
 * The forwarding loop of a routing group: try the planned targets in order until one commits.
 * Each target's own plugin `prepare` turns the same InboundRequest into its upstream request
 * (Anthropic Messages on Vertex or Bedrock included), so nothing here knows any provider.
 * Every try is kept on the exchange (`x.attempts`); breakers hear every verdict. When no target commits, the client gets the last upstream error as it was,
 * or a gateway error in its own shape when none answered.
 */
import { GatewayError, UpstreamError } from '../errors'
import type { UpstreamRequest } from '../providers/types'
import { isRetryableStatus, noAnswerError, runAttempt, type AttemptResult, type UpstreamAnswer } from './attempt'
import type { BreakerRegistry } from './breaker'
import type { Attempt, Exchange, StreamObserver } from './exchange'
import { forwardList, responseHeaders, upstreamHeaders } from './headers'
import type { RouteTarget } from './routes'
import type { StreamBuffers, StreamEnd } from './stream'
import { gatewayOverloaded } from './admission'

export interface FailoverDeps {
  breakers: BreakerRegistry
  /** Throws a GatewayError when the key may not use this model. */
  checkModel(model: string | undefined): void
  /** An attempt is about to be sent (tracing adds its traceparent to `attempt.headers`). */
  attempt(attempt: Attempt): void
}

export interface FailoverIo {
  errorTail(how: StreamEnd): string | Uint8Array | undefined
  /** Stream buffers: the bound per relay and the gauge admission reads. */
  buffers?: StreamBuffers
  /** What sees a committed stream's events beside its usage reader. */
  taps?(): StreamObserver[]
}

export type ForwardOutcome = Extract<AttemptResult, { kind: 'committed' }> | { kind: 'client_gone' } | { kind: 'error'; error: GatewayError }

/**
 * `targets` are planned (allowed, enabled, ordered); `x.target`/`x.upstream` hold the first,
 * already prepared. `x.target` and `x.upstream` follow the attempt in progress, so later steps
 * (and the record) see the target that answered. Every try goes on
 * `x.attempts`; breakers hear every verdict, a stream's late failure included.
 */
export async function forwardWithFailover(x: Exchange, targets: RouteTarget[], deps: FailoverDeps, io: FailoverIo): Promise<ForwardOutcome> {
  const attempts: Attempt[] = (x.attempts = [])
  let lastAnswer: UpstreamAnswer | undefined
  let allTimedOut = true
  let skippedByBreaker = false
  /** Attempts that failed on the gateway's own side (out of descriptors): no provider's fault. */
  let localFailures = 0
  const tried: string[] = []

  for (let i = 0; i < targets.length; i++) {
    const target = targets[i]!
    if (x.request.signal.aborted) return { kind: 'client_gone' }
    const breaker = deps.breakers.for(target.provider.id)
    const permit = breaker.acquire()
    if (!permit) {
      skippedByBreaker = true
      continue
    }
    const start = performance.now()
    let upstream: UpstreamRequest
    try {
      upstream = target === x.target ? x.upstream : await target.api.prepare(x.inbound, target.provider)
      // As for the first target (proxy/pipeline.ts classify): the table's model where prepare found none.
      upstream.model ??= x.classification?.model
      deps.checkModel(upstream.model)
    } catch (e) {
      // This target cannot serve this request (a path or model it does not take): skip it.
      permit.cancel()
      const end = performance.now()
      attempts.push({ n: tried.length, provider: target.provider, start, end, status: 0, error: e instanceof GatewayError ? e.code : 'prepare_failed', failedOver: true })
      continue
    }
    const more = targets.slice(i + 1).some((t) => deps.breakers.for(t.provider.id).allows())
    x.target = target
    x.upstream = upstream
    tried.push(target.provider.id)

    const attempt: Attempt = {
      n: tried.length,
      provider: target.provider,
      url: upstream.url,
      headers: upstreamHeaders(x.request.headers, upstream.headers, upstream.stream, forwardList(x.route.api, target.api)),
      start,
      end: start,
      status: 0,
      failedOver: false,
    }
    attempts.push(attempt)
    deps.attempt(attempt)

    const result = await runAttempt({
      target,
      upstream,
      headers: attempt.headers!,
      canFailOver: more,
      clientSignal: x.request.signal,
      x,
      errorTail: io.errorTail,
      buffers: io.buffers,
      taps: io.taps,
    })
    attempt.end = performance.now()
    attempt.status = result.status

    if (result.kind === 'committed') {
      if (!result.streamed) attempt.error = result.error
      if (isRetryableStatus(result.status)) permit.failure()
      else permit.success()
      // A stream that fails after it committed still counts against its provider.
      if (result.streamed)
        result.done.then((how) => {
          if (how === 'complete' || how === 'client_disconnected') return
          attempt.cut = how
          breaker.lateFailure()
        })
      return result
    }
    if (result.kind === 'client_gone') {
      attempt.error = 'client_disconnected'
      permit.cancel()
      return { kind: 'client_gone' }
    }
    if (result.local) {
      localFailures++
      permit.cancel()
    } else permit.failure()
    attempt.error = result.error
    attempt.failedOver = more
    if (result.answer) lastAnswer = result.answer
    if (!result.timedOut) allTimedOut = false
  }

  if (lastAnswer) {
    // Every target failed and at least one answered: the last answer, as it was.
    const { status, headers, body } = lastAnswer
    return { kind: 'committed', status, headers: responseHeaders(headers, x.id), body, streamed: false, error: `upstream_${status}` }
  }
  if (!tried.length) {
    // Breakers that opened while this request waited its turn, or no target could take the request.
    if (skippedByBreaker) return { kind: 'error', error: circuitOpen(targets.map((t) => t.provider.id), deps.breakers) }
    return { kind: 'error', error: new UpstreamError(`No provider of route "${x.route.name}" can take this request.`, 'no_target') }
  }
  if (localFailures === tried.length) return { kind: 'error', error: gatewayOverloaded('The gateway is overloaded (out of sockets or file descriptors); try again shortly.') }
  return { kind: 'error', error: noAnswerError(allTimedOut, tried) }
}

/** Targets whose breaker admits a request now; a 503 with retry-after when there is none. */
export function viableTargets(targets: RouteTarget[], breakers: BreakerRegistry): RouteTarget[] {
  const open = targets.filter((t) => breakers.for(t.provider.id).allows())
  if (!open.length) throw circuitOpen(targets.map((t) => t.provider.id), breakers)
  return open
}

/** 503 with retry-after: the providers failed repeatedly and are paused until their cool-down ends. */
function circuitOpen(providers: string[], breakers: BreakerRegistry): GatewayError {
  const now = breakers.now()
  const retryAt = Math.min(...providers.map((p) => breakers.for(p).snapshot().retryAt ?? now))
  const secs = Math.max(1, Math.ceil((retryAt - now) / 1000))
  const who = providers.length === 1 ? `Provider "${providers[0]}" is` : `Every provider of this route (${providers.join(', ')}) is`
  return new GatewayError('unavailable', 503, 'circuit_open', `${who} failing and paused for ${secs} s; try again later.`, {
    headers: { 'retry-after': String(secs) },
    retryable: true,
  })
}
