/**
 * The request path for every provider route, top to bottom:
 *   authenticate → classify → admit (capacity, objects, rate limits, spend, shared budget)
 *   → forward (plan, failover, attempts) → meter → settle → record.
 * Each step is called from here, in this order; what a step learns goes on the request's
 * Exchange (src/proxy/exchange.ts). Provider specifics (paths, credentials, usage, error shapes)
 * come from the route's api plugin; spend, rate limits, objects and telemetry are steps handed in.
 */
import type { Server } from 'bun'
import { authenticate } from '../auth/authenticate'
import type { KeyStore } from '../auth/keystore'
import { anyLimit, globMatcher, type KeyRecord } from '../auth/principal'
import type { Config, ProjectConfig, UserConfig } from '../config/schema'
import { GatewayError, NotFoundError, PermissionError, type ErrorShape } from '../errors'
import type { InboundRequest } from '../providers/types'
import type { ObjectGuard } from '../objects/guard'
import type { RateLimitGate } from '../ratelimit/gate'
import type { SpendSteps } from '../spend/steps'
import type { SharedBudget } from '../cluster/budget'
import { inspectJson, readBody } from './body'
import { classifyInbound } from './classify'
import { preAuthAnswer, preAuthShape, routesVisibleTo, scrubCredentialQuery } from './edge'
import { Exchange, type Attempt, type FinishedExchange, type StreamObserver } from './exchange'
import type { AttemptRecord, RequestRecord, RequestSink } from './record'
import type { RouteTable, RouteTarget } from './routes'
import { Admission } from './admission'
import { BreakerRegistry } from './breaker'
import { forwardWithFailover, viableTargets } from './failover'
import { planTargets, routeVisible } from './plan'
import { streamCutError, type StreamEnd } from './stream'
import { safely } from './safely'

/** What telemetry does along the way (src/telemetry/): it writes only its own spans and the attempt's traceparent. */
export interface TracingSteps {
  /** A request arrived (before auth): its server span opens. */
  begin(x: Exchange): void
  /** Authenticated and classified: whether this project's content is captured; the span learns the request. */
  admitted(x: Exchange): boolean
  /** An upstream try is about to be sent: its client span opens and its traceparent goes on `attempt.headers`. */
  attempt(x: Exchange, attempt: Attempt): void
  /** Whether anything reads what an answer says about itself (spans do): without it, answers are not described. */
  readonly describes: boolean
}

export interface PipelineSteps {
  objects: ObjectGuard
  rates: RateLimitGate
  spend: SpendSteps
  /** Spend limits across instances (src/cluster/), after the local reservation. */
  shared?: SharedBudget
  tracing: TracingSteps
  /** Scrubs what the record and error messages echo of client input (src/telemetry/redact.ts). */
  redact(text: string): string
}

export interface PipelineDeps {
  config: Config
  keys: KeyStore
  routes: RouteTable
  steps: PipelineSteps
  /** Read the finished request, in order: the request log, spans, metrics, the log line (and tests). */
  observers: RequestSink[]
  /** Clock for circuit breakers (tests inject one). */
  now?: () => number
  /** Random source for weighted target order (tests inject one). */
  random?: () => number
  /** Whether a spend limit or prepaid credits apply to a key, its user or its project (the spend service's answer). */
  isLimited?: (key: KeyRecord, user: UserConfig | undefined, project: ProjectConfig | undefined) => boolean
}

export class Pipeline {
  /** Requests admitted and not yet finished (streams included); shutdown waits on it. */
  inflight = 0
  /** Streamed responses being relayed now. */
  streams = 0
  private projects = new Map<string, ProjectConfig>()
  private users = new Map<string, UserConfig>()
  private modelMatchers = new WeakMap<string[], (m: string) => boolean>()
  /** `[admin] public_url` without its trailing slash: where clients reach the gateway, when set. */
  private publicUrl: string | undefined
  /** One circuit breaker per provider; `breakers.snapshot()` is what metrics read. */
  readonly breakers: BreakerRegistry
  /** Says when the gateway is full (src/proxy/admission.ts); metrics read it. */
  readonly admission = new Admission()

  constructor(private deps: PipelineDeps) {
    this.breakers = new BreakerRegistry(deps.now)
    this.setConfig(deps.config, deps.routes)
  }

  setConfig(config: Config, routes: RouteTable): void {
    this.deps = { ...this.deps, config, routes }
    this.breakers.configure(config.providers)
    this.admission.configure(config)
    this.projects = new Map(config.projects.map((p) => [p.id, p]))
    this.users = new Map(config.users.map((u) => [u.id, u]))
    this.publicUrl = config.admin.public_url?.replace(/\/+$/, '')
  }

  handle = async (request: Request, server?: Server<unknown>): Promise<Response> => {
    const url = new URL(request.url)
    let path = url.pathname
    const viaProxy = path.startsWith('/proxy/')
    if (viaProxy) path = path.slice(6)
    const slash = path.indexOf('/', 1)
    const routeName = safeDecode(slash < 0 ? path.slice(1) : path.slice(1, slash))
    const rest = slash < 0 ? '' : path.slice(slash + 1)
    // Edge (src/proxy/edge.ts): before auth nothing depends on whether the route exists.
    let shape: ErrorShape = preAuthShape(routeName, rest, request.headers)
    const probe = url.search ? undefined : preAuthAnswer(request.method, rest)
    if (probe) return probe

    const x = new Exchange(request, url, routeName)
    const { steps } = this.deps
    safely('tracing', () => steps.tracing.begin(x))
    try {
      // 1. Authenticate: no credential in the URL; the key, its project and user; a route outside the project's reach answers as a missing one.
      const search = scrubCredentialQuery(url.search)
      await this.authenticate(x)
      const found = this.deps.routes.get(routeName)
      if (!found || (x.project && !found.pick && !routeVisible(found, x.project))) throw this.unknownRoute(x, routeName)
      shape = found.api.errorsFor?.(rest) ?? found.api.errors
      if (!x.project) throw new PermissionError(`This key's project "${x.key.project}" no longer exists.`, 'unknown_project')
      x.route = found

      // 2. Classify: the body, what the format's endpoint table says it is, the model allow-list, the first target prepared.
      const targets = await this.classify(x, routeName, rest, search, url, viaProxy)

      // 3. Admit: capacity, object ownership, rate limits, the spend reservation, the shared budget.
      await this.admit(x)

      // 4–7. Forward, meter, settle, record (a stream settles when its relay ends).
      return await this.forward(x, targets, server)
    } catch (e) {
      const err = e instanceof GatewayError ? e : internalError(e)
      this.finish(x, err.status, err.code)
      const res = err.renderIn(shape, steps.redact)
      res.headers.set('x-tollgate-request-id', x.id)
      return res
    }
  }

  private async authenticate(x: Exchange): Promise<void> {
    const key = await authenticate(x.request.headers, this.deps.keys)
    x.key = key
    x.project = this.projects.get(key.project)
    x.user = key.user ? this.users.get(key.user) : undefined
  }

  private unknownRoute(x: Exchange, routeName: string): NotFoundError {
    return new NotFoundError(`No route named "${routeName}". Routes this key can use: ${routesVisibleTo(this.deps.routes, x.key, x.project).join(', ') || 'none'}.`, 'unknown_route')
  }

  /** Reads and classifies the request; returns the viable targets, the first prepared on `x.upstream`. */
  private async classify(x: Exchange, routeName: string, rest: string, search: string, url: URL, viaProxy: boolean): Promise<RouteTarget[]> {
    const { request, key, user } = x
    const project = x.project!
    const server = this.deps.config.server
    const read = () => readBody(request, server.max_body_bytes, server.body_timeout_seconds * 1000, x.start)
    const contentType = request.headers.get('content-type')
    // The front door (/v1/…): the body's model picks the route (src/proxy/frontdoor.ts), so the body comes first.
    let early: { body: Uint8Array | null; json: Record<string, unknown> | undefined } | undefined
    if (x.route.pick) {
      const b = await read()
      early = { body: b, json: inspectJson(b, contentType) }
      x.route = x.route.pick(request.method, rest, early.json, (r) => routeVisible(r, project))
      x.routeName = x.route.name
    }
    const route = x.route
    // Allowed, enabled, ordered targets whose breaker admits a request; the first is prepared here.
    const targets = viableTargets(planTargets(route, key, project, this.deps.random), this.breakers)
    const target = (x.target = targets[0]!)

    const body = early ? early.body : await read()
    const publicUrl = this.publicUrl
    const inbound: InboundRequest = (x.inbound = {
      method: request.method,
      path: rest,
      search,
      headers: request.headers,
      body,
      json: early ? early.json : route.api.opaqueBody?.(rest) ? undefined : inspectJson(body, contentType),
      // Read only by protocols that hand out a URL (resumable uploads): built on use, not per request.
      get gatewayBase() {
        return (publicUrl ?? url.origin) + (viaProxy ? '/proxy' : '')
      },
    })
    // The format's endpoint table says what this is (or refuses it) before anything is reserved.
    const limited = this.isLimited(key, user, project) || route.targets.some((t) => t.provider.managed === true)
    const c = (x.classification = classifyInbound(route.api, inbound, { routeName, key, user, project, limited }, target.provider))
    // Bounded by the classification; a refused model is logged as requested.
    for (const m of c?.models ?? (c?.model ? [c.model] : [])) this.checkModel(key, m)

    const upstream = (x.upstream = await target.api.prepare(inbound, target.provider))
    // The table found the model wherever it is (form field, batch, a path prepare does not parse): spend, limits and the log price that one.
    upstream.model ??= c?.model
    this.checkModel(key, upstream.model)
    return targets
  }

  /**
   * Admit, before anything goes upstream. The checks that wait on a store (an ownership lookup,
   * Redis) are started together, so two shared checks cost one round trip, not two; a refusal
   * that comes at once stops the rest. Whatever was taken before a refusal is released by
   * `finish` (it settles what `x` holds), and the first refusal in this order is the answer.
   */
  private async admit(x: Exchange): Promise<void> {
    const { steps } = this.deps
    // Full: a native 503 before anything is reserved or sent upstream.
    x.ticket = this.admission.admit(x.key.id)
    this.inflight++
    x.capture = safely('tracing', () => steps.tracing.admitted(x)) ?? false
    await runChecks([() => steps.objects.check(x), () => steps.rates.acquire(x), () => steps.spend.reserve(x), () => steps.shared?.reserve(x)])
  }

  /** Tries the planned targets in turn (src/proxy/failover.ts); meters the answer and settles exactly once. */
  private async forward(x: Exchange, targets: RouteTarget[], server: Server<unknown> | undefined): Promise<Response> {
    const { steps } = this.deps
    const out = await forwardWithFailover(
      x,
      targets,
      {
        breakers: this.breakers,
        checkModel: (m) => this.checkModel(x.key, m),
        attempt: (a) => safely('tracing', () => steps.tracing.attempt(x, a)),
      },
      {
        // A stream cut short ends with one error event in the client's format (the route's).
        errorTail: (how) => x.route.api.streamErrorEvent?.(streamCutError(how)),
        buffers: this.admission.buffers,
        taps: () => this.streamTaps(x),
      },
    )
    if (out.kind === 'client_gone') {
      this.finish(x, 499, 'client_disconnected')
      return new Response(null, { status: 499 })
    }
    if (out.kind === 'error') throw out.error
    if (out.streamed) {
      // Long generations must not hit the server's idle timeout; the relay's end settles.
      server?.timeout(x.request, 0)
      x.streamed = true
      this.streams++
      const status = out.status
      void out.done.then((how: StreamEnd) => this.finish(x, how === 'client_disconnected' ? 499 : status, how === 'complete' ? undefined : how))
      return new Response(out.body, { status, headers: out.headers })
    }
    // 5. Meter a whole answer: what it says about itself, and the objects it made.
    let body = out.body
    if (out.answer !== undefined) this.meter(x, out.answer)
    // A 2xx JSON answer may change before it goes: lists keep the caller's objects; the cost header (and inject_cost).
    if (body instanceof Uint8Array && out.status < 300 && !out.error) body = this.respond(x, body, out.headers)
    this.finish(x, out.status, out.error)
    return new Response(body, { status: out.status, headers: out.headers })
  }

  /** What sees a stream's events beside its usage reader: telemetry's describer, object ids it makes, the spend tap. */
  private streamTaps(x: Exchange): StreamObserver[] {
    const { steps } = this.deps
    const taps: StreamObserver[] = []
    const format = steps.tracing.describes ? x.target.api.telemetry?.(x.upstream.flavor) : undefined
    if (format) {
      const reader = format.stream(x.response, x.capture)
      if (x.capture) x.streamOutput = () => reader.output()
      taps.push(reader)
    }
    const objects = steps.objects.streamTap(x)
    if (objects) taps.push(objects)
    const spend = steps.spend.tap(x)
    if (spend) taps.push(spend)
    return taps
  }

  private meter(x: Exchange, answer: unknown): void {
    const { steps } = this.deps
    if (steps.tracing.describes) safely('telemetry', () => x.target.api.telemetry?.(x.upstream.flavor)?.response(answer, x.response, x.capture))
    safely('objects', () => steps.objects.remember(x, answer))
  }

  private respond(x: Exchange, body: Uint8Array, headers: Headers): Uint8Array {
    const { steps } = this.deps
    body = safely('objects', () => steps.objects.rewrite(x, body)) ?? body
    const change = safely('spend', () => steps.spend.quote(x, body))
    if (!change) return body
    for (const [k, v] of Object.entries(change.headers ?? {})) headers.set(k, v)
    return change.body ?? body
  }

  /** 6–7. Settle what the request holds (once), then hand its record to the observers. */
  private finish(x: Exchange, status: number, error?: string): void {
    if (x.finished) return
    x.finished = true
    const { steps } = this.deps
    x.status = status
    x.error ??= error
    const durationMs = performance.now() - x.start
    if (x.ticket) {
      this.inflight--
      x.ticket.release()
    }
    if (x.streamed) this.streams--
    // Rate limits first (their tokens settle to the usage), then spend (the cost), then the shared budget (which charges that cost).
    safely('rate limits', () => steps.rates.release(x))
    safely('spend', () => steps.spend.settle(x))
    if (steps.shared) safely('shared budget', () => steps.shared!.settle(x))
    // The record, built here once: what observers store and print, client-chosen text redacted, every try in order.
    const model = x.model
    const r: RequestRecord = (x.record = {
      id: x.id,
      ts: x.ts,
      keyId: x.key?.id,
      project: x.key?.project,
      user: x.key?.user,
      provider: x.target?.provider.id,
      route: steps.redact(x.routeName),
      api: x.target?.provider.api,
      model: model === undefined ? undefined : steps.redact(model),
      method: x.method,
      path: steps.redact(x.path),
      stream: x.eventStream || (x.upstream?.stream ?? false),
      status,
      durationMs,
      ttfbMs: x.ttfbMs,
      usage: x.usage,
      costNanos: x.costNanos,
      error: x.error,
      attempts: x.attempts?.map(attemptRecord(x)),
      limit: x.limit,
    })
    const done = x as FinishedExchange
    for (const o of this.deps.observers) safely('request observer', () => o.record(r, done))
  }

  /** Whether a spend limit or prepaid credits apply (batch and passthrough refusals); the gateway hands in the spend service's answer. */
  private get isLimited(): (key: KeyRecord, user: UserConfig | undefined, project: ProjectConfig | undefined) => boolean {
    return this.deps.isLimited ?? anyLimit
  }

  /** Throws when the key may not use this model. */
  private checkModel(key: KeyRecord, model: string | undefined): void {
    const globs = key.models
    if (!model || !globs) return
    let m = this.modelMatchers.get(globs)
    if (!m) this.modelMatchers.set(globs, (m = globMatcher(globs)))
    if (!m(model)) throw new PermissionError(`Model "${model}" is not allowed for this key. Allowed: ${globs.join(', ')}.`, 'model_not_allowed')
  }
}

/**
 * Runs admission checks in order. One that answers with a promise is not awaited before the
 * next starts; one that throws at once stops the walk. Resolves once every started check has
 * answered; rejects with the first refusal in order.
 */
export async function runChecks(checks: (() => void | Promise<void>)[]): Promise<void> {
  const waits: Promise<void>[] = []
  let refused: { error: unknown } | undefined
  for (const check of checks) {
    try {
      const r = check()
      if (r) waits.push(r)
    } catch (e) {
      refused = { error: e }
      break
    }
  }
  if (waits.length) {
    const first = (await Promise.allSettled(waits)).find((o): o is PromiseRejectedResult => o.status === 'rejected')
    if (first) refused = { error: first.reason }
  }
  if (refused) throw refused.error
}

const attemptRecord =
  (x: Exchange) =>
  (a: Attempt): AttemptRecord => ({ provider: a.provider.id, status: a.status, error: a.cut ?? a.error, failedOver: a.failedOver, ms: a.end - x.start })

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

function internalError(e: unknown): GatewayError {
  console.error(`internal error: ${(e as Error)?.message ?? e}`)
  return new GatewayError('upstream', 500, 'internal_error', 'The gateway failed to handle this request.')
}

export type { RequestRecord }
