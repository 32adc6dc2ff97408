/**
 * The forwarding loop of a routing group: try the planned targets in order until one commits.
 * Each target's own plugin `prepare` turns the same InboundRequest into its upstream request
 * (Anthropic Messages on Vertex or Bedrock included), so nothing here knows any provider.
 * Every try is logged in `record.attempts` and reported to the `attempt` hooks; breakers hear
 * every verdict. When no target commits, the client gets the last upstream error as it was,
 * or a gateway error in its own shape when none answered.
 */
import { GatewayError, UpstreamError } from '../errors'
import type { UpstreamRequest } from '../providers/types'
import { isRetryableStatus, noAnswerError, runAttempt, type AttemptResult, type UpstreamAnswer } from './attempt'
import type { BreakerRegistry } from './breaker'
import { observeStream, type Attempt, type AttemptOutcome, type ProxyContext, type RequestHooks } from './context'
import { forwardList, responseHeaders, upstreamHeaders } from './headers'
import type { AttemptRecord } from './record'
import type { RouteTarget } from './routes'
import type { StreamBuffers, StreamEnd } from './stream'
import { gatewayOverloaded } from './admission'
import { safely } from './safely'

export interface FailoverDeps {
  hooks: RequestHooks[]
  breakers: BreakerRegistry
  /** Throws a GatewayError when the key may not use this model. */
  checkModel(model: string | undefined): void
}

export interface FailoverIo {
  start: number
  errorTail(how: StreamEnd): string | Uint8Array | undefined
  onStream(): void
  streamEnded(status: number, error?: string): void
  /** Stream buffers: the bound per relay and the gauge admission reads. */
  buffers?: StreamBuffers
}

export type ForwardOutcome =
  | Extract<AttemptResult, { kind: 'committed' }>
  | { kind: 'client_gone' }
  | { kind: 'error'; error: GatewayError }

/**
 * `targets` are planned (allowed, enabled, ordered); `ctx.target`/`ctx.upstream` hold the first,
 * already prepared. `ctx.target`, `ctx.upstream` and the record's provider, api and model follow
 * the attempt in progress, so hooks and settle see the target that answered.
 */
export async function forwardWithFailover(ctx: ProxyContext, targets: RouteTarget[], deps: FailoverDeps, io: FailoverIo): Promise<ForwardOutcome> {
  const { record } = ctx
  const attempts: AttemptRecord[] = (record.attempts = [])
  let lastAnswer: UpstreamAnswer | undefined
  let allTimedOut = true
  let skippedByBreaker = false
  /** Attempts that failed on the gateway's own side (out of descriptors): no provider's fault. */
  let localFailures = 0
  const tried: string[] = []

  for (let i = 0; i < targets.length; i++) {
    const target = targets[i]!
    if (ctx.request.signal.aborted) return { kind: 'client_gone' }
    const breaker = deps.breakers.for(target.provider.id)
    const permit = breaker.acquire()
    if (!permit) {
      skippedByBreaker = true
      continue
    }
    let upstream: UpstreamRequest
    try {
      upstream = target === ctx.target ? ctx.upstream : await target.api.prepare(ctx.inbound, target.provider)
      // As for the first target (proxy/handler.ts): the table's model where prepare found none.
      upstream.model ??= ctx.classification?.model
      deps.checkModel(upstream.model)
    } catch (e) {
      // This target cannot serve this request (a path or model it does not take): skip it.
      permit.cancel()
      attempts.push({ provider: target.provider.id, status: 0, error: e instanceof GatewayError ? e.code : 'prepare_failed', failedOver: true, ms: performance.now() - io.start })
      continue
    }
    const more = targets.slice(i + 1).some((t) => deps.breakers.for(t.provider.id).allows())
    ctx.target = target
    ctx.upstream = upstream
    record.provider = target.provider.id
    record.api = target.provider.api
    record.model = upstream.model
    record.stream = upstream.stream
    tried.push(target.provider.id)

    const attempt: Attempt = {
      n: tried.length,
      provider: target.provider,
      url: upstream.url,
      headers: upstreamHeaders(ctx.request.headers, upstream.headers, upstream.stream, forwardList(ctx.route.api, target.api)),
    }
    const ends = deps.hooks.map((h) => h.attempt?.(ctx, attempt)).filter((f) => typeof f === 'function')
    const report = (o: AttemptOutcome) => {
      for (const f of ends) safely('attempt hook', () => f(o))
    }
    const entry: AttemptRecord = { provider: target.provider.id, status: 0, failedOver: false, ms: 0 }
    attempts.push(entry)

    const result = await runAttempt({
      target,
      upstream,
      headers: attempt.headers,
      canFailOver: more,
      clientSignal: ctx.request.signal,
      record,
      start: io.start,
      errorTail: io.errorTail,
      onStream: io.onStream,
      buffers: io.buffers,
      observeJson: (body) => {
        for (const h of deps.hooks) if (h.response) safely('response hook', () => h.response!(ctx, body))
      },
      observeStream: (reader) => observeStream(reader, deps.hooks.map((h) => h.stream?.(ctx))),
      streamEnded: (status, error) => {
        if (error && error !== 'client_disconnected') {
          entry.error = error
          breaker.lateFailure()
        }
        io.streamEnded(status, error)
      },
    })
    entry.ms = performance.now() - io.start
    entry.status = result.status

    if (result.kind === 'committed') {
      entry.error = result.error
      report({ status: result.status, error: result.error, failedOver: false })
      if (isRetryableStatus(result.status)) permit.failure()
      else permit.success()
      return result
    }
    if (result.kind === 'client_gone') {
      entry.error = 'client_disconnected'
      report({ status: result.status, error: 'client_disconnected', failedOver: false })
      permit.cancel()
      return { kind: 'client_gone' }
    }
    if (result.local) {
      localFailures++
      permit.cancel()
    } else permit.failure()
    entry.error = result.error
    entry.failedOver = more
    report({ status: result.status, error: result.error, failedOver: more })
    if (result.answer) lastAnswer = result.answer
    if (!result.timedOut) allTimedOut = false
  }

  if (lastAnswer) {
    // Every target failed and at least one answered: the last answer, as it was.
    const { status, headers, body } = lastAnswer
    return { kind: 'committed', status, headers: responseHeaders(headers, record.id), body, streamed: false, error: `upstream_${status}` }
  }
  if (!tried.length) {
    // Breakers that opened while this request waited its turn, or no target could take the request.
    if (skippedByBreaker) return { kind: 'error', error: circuitOpen(targets.map((t) => t.provider.id), deps.breakers) }
    return { kind: 'error', error: new UpstreamError(`No provider of route "${ctx.route.name}" can take this request.`, 'no_target') }
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
