/**
 * The proxy pipeline, provider-agnostic: auth → route → reserve → forward → meter → settle.
 * Provider specifics (paths, credentials, usage, error shapes) come from the route's api plugin.
 */
import type { Server } from 'bun'
import { authenticate } from '../auth/authenticate'
import type { KeyStore } from '../auth/keystore'
import { anyLimit, globMatcher, type KeyRecord } from '../auth/principal'
import type { Config, ProjectConfig, UserConfig } from '../config/schema'
import { GatewayError, NotFoundError, PermissionError, type ErrorShape } from '../errors'
import type { InboundRequest } from '../providers/types'
import { inspectJson, readBody } from './body'
import { classifyInbound } from './classify'
import { preAuthAnswer, preAuthShape, routesVisibleTo, scrubCredentialQuery } from './edge'
import { applyRespondHooks, runAdmitHooks, type ProxyContext, type RequestHooks } from './context'
import { recordedText, type RequestRecord, type RequestSink } from './record'
import type { RouteTable, RouteTarget } from './routes'
import { Admission, type Ticket } from './admission'
import { BreakerRegistry } from './breaker'
import { forwardWithFailover, viableTargets, type ForwardOutcome } from './failover'
import { planTargets, routeVisible } from './plan'
import { streamCutError } from './stream'
import { safely } from './safely'

export interface ProxyDeps {
  config: Config
  keys: KeyStore
  routes: RouteTable
  sinks: RequestSink[]
  hooks: RequestHooks[]
  /** Clock for circuit breakers (tests inject one). */
  now?: () => number
  /** Random source for weighted target order (tests inject one). */
  random?: () => number
  /** Whether a spend limit or prepaid credits apply to a key, its user or its project (the spend service's answer). */
  isLimited?: (key: KeyRecord, user: UserConfig | undefined, project: ProjectConfig | undefined) => boolean
}

/** The request path for every provider route (not named `Proxy`, which would shadow the global). */
export class ProxyHandler {
  /** Requests admitted and not yet finished (streams included); shutdown waits on it. */
  inflight = 0
  private projects = new Map<string, ProjectConfig>()
  private users = new Map<string, UserConfig>()
  private modelMatchers = new WeakMap<string[], (m: string) => boolean>()
  /** `[admin] public_url` without its trailing slash: where clients reach the gateway, when set. */
  private publicUrl: string | undefined
  /** One circuit breaker per provider; `breakers.snapshot()` is what metrics read. */
  readonly breakers: BreakerRegistry
  /** Says when the gateway is full (src/proxy/admission.ts); metrics read it. */
  readonly admission = new Admission()

  constructor(private deps: ProxyDeps) {
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
    for (const h of this.deps.hooks) h.configure?.(config)
  }

  handle = async (request: Request, server?: Server<unknown>): Promise<Response> => {
    const start = performance.now()
    const url = new URL(request.url)
    let path = url.pathname
    const viaProxy = path.startsWith('/proxy/')
    if (viaProxy) path = path.slice(6)
    const slash = path.indexOf('/', 1)
    const routeName = safeDecode(slash < 0 ? path.slice(1) : path.slice(1, slash))
    const rest = slash < 0 ? '' : path.slice(slash + 1)
    let route = this.deps.routes.get(routeName)
    // Edge (src/proxy/edge.ts): before auth nothing depends on whether the route exists.
    let shape: ErrorShape = preAuthShape(routeName, rest, request.headers)
    const probe = url.search ? undefined : preAuthAnswer(request.method, rest)
    if (probe) return probe

    const record: RequestRecord = {
      // Time-ordered (v7): the log and ledger indexes grow at one end instead of at random pages.
      id: Bun.randomUUIDv7(),
      ts: Date.now(),
      method: request.method,
      path: recordedText(url.pathname),
      route: recordedText(routeName, 128),
      stream: false,
      status: 0,
      durationMs: 0,
    }
    for (const h of this.deps.hooks) h.start && safely('request hook', () => h.start!(request, record))
    let forwarded = false
    try {
      const search = scrubCredentialQuery(url.search)
      const key = await authenticate(request.headers, this.deps.keys)
      record.keyId = key.id
      record.project = key.project
      record.user = key.user
      const project = this.projects.get(key.project)
      // A route outside the project's reach answers exactly as a missing one (src/proxy/plan.ts routeVisible).
      const unknown = () => new NotFoundError(`No route named "${routeName}". Routes this key can use: ${routesVisibleTo(this.deps.routes, key, project).join(', ') || 'none'}.`, 'unknown_route')
      if (!route || (project && !route.pick && !routeVisible(route, project))) throw unknown()
      shape = route.api.errorsFor?.(rest) ?? route.api.errors
      if (!project) throw new PermissionError(`This key's project "${key.project}" no longer exists.`, 'unknown_project')
      const user = key.user ? this.users.get(key.user) : undefined
      // The front door (/v1/…): the body's model picks the route (src/proxy/frontdoor.ts), so the body comes first.
      let early: { body: Uint8Array | null; json: Record<string, unknown> | undefined } | undefined
      if (route.pick) {
        const b = await readBody(request, this.deps.config.server.max_body_bytes, this.deps.config.server.body_timeout_seconds * 1000, start)
        early = { body: b, json: inspectJson(b, request.headers.get('content-type')) }
        route = route.pick(request.method, rest, early.json, (r) => routeVisible(r, project))
        record.route = route.name
      }

      // Allowed, enabled, ordered targets whose breaker admits a request; the first is prepared here.
      const targets = viableTargets(planTargets(route, key, project, this.deps.random), this.breakers)
      const target = targets[0]!
      const provider = target.provider
      record.provider = provider.id
      record.api = provider.api

      const body = early ? early.body : await readBody(request, this.deps.config.server.max_body_bytes, this.deps.config.server.body_timeout_seconds * 1000, start)
      const publicUrl = this.publicUrl
      const inbound: InboundRequest = {
        method: request.method,
        path: rest,
        search,
        headers: request.headers,
        body,
        json: early ? early.json : route.api.opaqueBody?.(rest) ? undefined : inspectJson(body, request.headers.get('content-type')),
        // Read only by protocols that hand out a URL (resumable uploads): built on use, not per request.
        get gatewayBase() {
          return (publicUrl ?? url.origin) + (viaProxy ? '/proxy' : '')
        },
      }
      // Classify: the format's endpoint table says what this is (or refuses it) before anything is reserved.
      const classification = classifyInbound(route.api, inbound, { routeName, key, user, project, limited: this.isLimited(key, user, project) || route.targets.some((t) => t.provider.managed === true) }, provider)
      // Bounded by the classification; a refused model is logged as requested.
      record.model = classification?.model
      for (const m of classification?.models ?? (classification?.model ? [classification.model] : [])) if (key.models) this.checkModelAllowed(m, key.models)

      const upstream = await target.api.prepare(inbound, provider)
      // The table found the model wherever it is (form field, batch, a path prepare does not parse): spend, limits and the log price that one.
      upstream.model ??= classification?.model
      record.model = upstream.model
      record.stream = upstream.stream
      if (upstream.model && key.models) this.checkModelAllowed(upstream.model, key.models)

      const ctx: ProxyContext = { id: record.id, request, key, project, user, route, target, inbound, classification, upstream, record }
      // Full: a native 503 before anything is reserved (admit hooks) or sent upstream.
      const ticket = this.admission.admit(key.id)
      try {
        await runAdmitHooks(this.deps.hooks, ctx)
      } catch (e) {
        ticket.release()
        throw e
      }
      this.inflight++
      forwarded = true
      return await this.forward(ctx, targets, server, start, ticket)
    } catch (e) {
      const err = e instanceof GatewayError ? e : internalError(e)
      record.status = err.status
      record.error = err.code
      record.durationMs = performance.now() - start
      // Forwarded requests settle in forward(); these never reached the upstream.
      if (!forwarded) this.emit(undefined, record)
      const res = err.renderIn(shape)
      res.headers.set('x-tollgate-request-id', record.id)
      return res
    }
  }

  /** Tries the planned targets in turn (src/proxy/failover.ts) and settles the request exactly once. */
  private async forward(ctx: ProxyContext, targets: RouteTarget[], server: Server<unknown> | undefined, start: number, ticket: Ticket): Promise<Response> {
    const { request, record } = ctx
    let finished = false
    const finish = (status: number, error?: string) => {
      if (finished) return
      finished = true
      record.status = status
      record.error ??= error
      record.durationMs = performance.now() - start
      this.inflight--
      ticket.release()
      this.emit(ctx, record)
    }
    const models = ctx.key.models
    let out: ForwardOutcome
    try {
      out = await forwardWithFailover(ctx, targets, {
        hooks: this.deps.hooks,
        breakers: this.breakers,
        checkModel: (m) => {
          if (m && models) this.checkModelAllowed(m, models)
        },
      }, {
        start,
        // A stream cut short ends with one error event in the client's format (the route's).
        errorTail: (how) => ctx.route.api.streamErrorEvent?.(streamCutError(how)),
        // Long generations must not hit the server's idle timeout.
        onStream: () => server?.timeout(request, 0),
        streamEnded: finish,
        buffers: ticket.buffers,
      })
    } catch (e) {
      const err = e instanceof GatewayError ? e : internalError(e)
      finish(err.status, err.code)
      throw err
    }
    if (out.kind === 'client_gone') {
      finish(499, 'client_disconnected')
      return new Response(null, { status: 499 })
    }
    if (out.kind === 'error') {
      finish(out.error.status, out.error.code)
      throw out.error
    }
    // Whole bodies (JSON answers, errors) settle now; streams settle when the relay ends.
    if (!out.streamed) {
      // Hooks may add headers or a documented body change (spend: x-tollgate-cost-usd, inject_cost).
      if (out.body instanceof Uint8Array && out.status < 300 && !out.error) out.body = applyRespondHooks(this.deps.hooks, ctx, out.body, out.headers)
      finish(out.status, out.error)
    }
    return new Response(out.body, { status: out.status, headers: out.headers })
  }

  private emit(ctx: ProxyContext | undefined, record: RequestRecord): void {
    if (ctx) for (const h of this.deps.hooks) safely('request hook', () => h.settle?.(ctx, record))
    for (const s of this.deps.sinks) safely('request sink', () => s.record(record))
  }

  /** Whether a spend limit or prepaid credits apply (batch and passthrough refusals); the gateway hands in the spend service's answer. */
  private get isLimited(): (key: KeyRecord, user: UserConfig | undefined, project: ProjectConfig | undefined) => boolean {
    return this.deps.isLimited ?? anyLimit
  }

  private checkModelAllowed(model: string, globs: string[]): void {
    let m = this.modelMatchers.get(globs)
    if (!m) this.modelMatchers.set(globs, (m = globMatcher(globs)))
    if (!m(model)) throw new PermissionError(`Model "${model}" is not allowed for this key. Allowed: ${globs.join(', ')}.`, 'model_not_allowed')
  }
}

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
