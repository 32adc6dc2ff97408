/**
 * The proxy pipeline, provider-agnostic: auth → route → reserve → forward → meter → settle.
 * Provider specifics (paths, credentials, usage, error shapes) come from the route's api plugin.
 */
import type { Server } from 'bun'
import { authenticate } from '../auth/authenticate'
import type { KeyStore } from '../auth/keystore'
import { globMatcher } from '../auth/principal'
import type { Config, ProjectConfig, UserConfig } from '../config/schema'
import { GatewayError, NotFoundError, PermissionError, ProviderUnavailableError, UpstreamError, type ErrorShape } from '../errors'
import { shapeFor } from '../providers/registry'
import type { InboundRequest } from '../providers/types'
import { inspectJson, readBody } from './body'
import type { ProxyContext, RequestHooks } from './context'
import { responseHeaders, upstreamHeaders } from './headers'
import type { RequestRecord, RequestSink } from './record'
import type { RouteTable } from './routes'
import { sseDecoder } from './sse'
import { meteredStream, type StreamEnd } from './stream'

export interface ProxyDeps {
  config: Config
  keys: KeyStore
  routes: RouteTable
  sinks: RequestSink[]
  hooks: RequestHooks[]
}

export class Proxy {
  /** Requests admitted and not yet finished (streams included); shutdown waits on it. */
  inflight = 0
  private projects = new Map<string, ProjectConfig>()
  private users = new Map<string, UserConfig>()
  private modelMatchers = new WeakMap<string[], (m: string) => boolean>()

  constructor(private deps: ProxyDeps) {
    this.setConfig(deps.config, deps.routes)
  }

  setConfig(config: Config, routes: RouteTable): void {
    this.deps = { ...this.deps, config, routes }
    this.projects = new Map(config.projects.map((p) => [p.id, p]))
    this.users = new Map(config.users.map((u) => [u.id, u]))
  }

  handle = async (request: Request, server?: Server<unknown>): Promise<Response> => {
    const start = performance.now()
    const url = new URL(request.url)
    let path = url.pathname
    if (path.startsWith('/proxy/')) path = path.slice(6)
    const slash = path.indexOf('/', 1)
    const routeName = safeDecode(slash < 0 ? path.slice(1) : path.slice(1, slash))
    const rest = slash < 0 ? '' : path.slice(slash + 1)
    const route = this.deps.routes.get(routeName)
    const shape: ErrorShape = route?.api.errors ?? shapeFor(routeName, request.headers)

    // Claude Code probes its base URL with HEAD before the first request.
    if (route && !rest && (request.method === 'HEAD' || request.method === 'GET')) return new Response(null, { status: 200 })

    const record: RequestRecord = {
      id: crypto.randomUUID(),
      ts: Date.now(),
      method: request.method,
      path: url.pathname,
      route: routeName,
      stream: false,
      status: 0,
      durationMs: 0,
    }
    for (const h of this.deps.hooks) h.start && safely(() => h.start!(request, record))
    let forwarded = false
    try {
      const key = await authenticate(request.headers, this.deps.keys)
      record.keyId = key.id
      record.project = key.project
      record.user = key.user
      if (!route) throw new NotFoundError(`No route named "${routeName}". Known routes: ${this.deps.routes.names().join(', ')}.`, 'unknown_route')
      const project = this.projects.get(key.project)
      if (!project) throw new PermissionError(`This key's project "${key.project}" no longer exists.`, 'unknown_project')
      const user = key.user ? this.users.get(key.user) : undefined

      const target = route.targets[0]!
      const provider = target.provider
      record.provider = provider.id
      record.api = provider.api
      this.checkProviderAllowed(provider.id, key.providers, project.providers)
      if (provider.enabled === false) throw new ProviderUnavailableError(`Provider "${provider.id}" is disabled in this gateway's configuration.`, 'provider_disabled')

      const body = await readBody(request, this.deps.config.server.max_body_bytes)
      const inbound: InboundRequest = {
        method: request.method,
        path: rest,
        search: url.search,
        headers: request.headers,
        body,
        json: inspectJson(body, request.headers.get('content-type')),
      }
      const upstream = await target.api.prepare(inbound, provider)
      record.model = upstream.model
      record.stream = upstream.stream
      if (upstream.model && key.models) this.checkModelAllowed(upstream.model, key.models)

      const ctx: ProxyContext = { id: record.id, request, key, project, user, route, target, inbound, upstream, record }
      for (const h of this.deps.hooks) await h.admit?.(ctx)
      this.inflight++
      forwarded = true
      return await this.forward(ctx, server, start)
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

  private async forward(ctx: ProxyContext, server: Server<unknown> | undefined, start: number): Promise<Response> {
    const { request, upstream, record, target } = ctx
    const abort = new AbortController()
    const onClientGone = () => abort.abort()
    request.signal.addEventListener('abort', onClientGone, { once: true })
    let finished = false
    const finish = (status: number, error?: string) => {
      if (finished) return
      finished = true
      request.signal.removeEventListener('abort', onClientGone)
      record.status = status
      record.error ??= error
      record.durationMs = performance.now() - start
      this.inflight--
      this.emit(ctx, record)
    }

    const attempt = { n: 1, provider: target.provider, url: upstream.url, headers: upstreamHeaders(request.headers, upstream.headers, upstream.stream) }
    const attemptEnds = this.deps.hooks.map((h) => h.attempt?.(ctx, attempt)).filter((f) => typeof f === 'function')
    const endAttempt = (status: number, error?: string) => {
      for (const f of attemptEnds) safely(() => f({ status, error, failedOver: false }))
    }
    let res: Response
    try {
      res = await fetch(upstream.url, {
        method: upstream.method,
        headers: attempt.headers,
        body: upstream.body,
        signal: abort.signal,
        redirect: 'manual',
      })
    } catch (e) {
      if (abort.signal.aborted) {
        endAttempt(0, 'client_disconnected')
        finish(499, 'client_disconnected')
        return new Response(null, { status: 499 })
      }
      const err = new UpstreamError(`Provider "${target.provider.id}" could not be reached.`)
      endAttempt(0, 'connect')
      finish(err.status, err.code)
      throw err
    }
    endAttempt(res.status, res.ok ? undefined : `upstream_${res.status}`)

    const headers = responseHeaders(res.headers, record.id)
    const contentType = res.headers.get('content-type') ?? ''
    const streamed = res.body !== null && (contentType.includes('text/event-stream') || contentType.includes('vnd.amazon.eventstream'))
    if (!res.ok) record.error = `upstream_${res.status}`

    if (streamed) {
      // Long generations must not hit the server's idle timeout.
      server?.timeout(request, 0)
      record.stream = true
      const reader = target.api.streamUsage(upstream.flavor)
      const decoder = target.api.streamDecoder?.(reader) ?? sseDecoder(reader)
      const body = meteredStream(
        res.body!,
        decoder,
        {
          firstByte: () => (record.ttfbMs = performance.now() - start),
          end: (how: StreamEnd) => {
            record.usage = reader.result()
            finish(how === 'client_disconnected' ? 499 : res.status, how === 'complete' ? undefined : how)
          },
          errorTail: () => target.api.streamErrorEvent?.(new UpstreamError('The upstream stream failed before it completed.', 'upstream_stream_error')),
        },
        abort,
      )
      return new Response(body, { status: res.status, headers })
    }

    if (res.ok && contentType.includes('json')) {
      let bytes: Uint8Array
      try {
        bytes = await res.bytes()
      } catch {
        const how = abort.signal.aborted ? 499 : 502
        finish(how, abort.signal.aborted ? 'client_disconnected' : 'upstream_body_error')
        if (how === 499) return new Response(null, { status: 499 })
        throw new UpstreamError(`Provider "${target.provider.id}" closed the connection mid-response.`, 'upstream_body_error')
      }
      record.ttfbMs = performance.now() - start
      try {
        record.usage = target.api.jsonUsage(JSON.parse(new TextDecoder().decode(bytes)), upstream.flavor)
      } catch {
        // Not JSON after all; the client still gets the bytes as sent.
      }
      finish(res.status)
      return new Response(bytes, { status: res.status, headers })
    }

    // Errors and non-JSON bodies (files, audio) pass through untouched.
    record.ttfbMs = performance.now() - start
    finish(res.status)
    return new Response(res.body, { status: res.status, headers })
  }

  private emit(ctx: ProxyContext | undefined, record: RequestRecord): void {
    if (ctx) for (const h of this.deps.hooks) safely(() => h.settle?.(ctx, record))
    for (const s of this.deps.sinks) safely(() => s.record(record))
  }

  private checkProviderAllowed(id: string, keyList?: string[], projectList?: string[]): void {
    for (const [list, who] of [
      [keyList, 'key'],
      [projectList, 'project'],
    ] as const) {
      if (list && !list.includes(id)) {
        throw new PermissionError(`Provider "${id}" is not allowed for this ${who}. Allowed: ${list.join(', ') || 'none'}.`, 'provider_not_allowed')
      }
    }
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

function safely(f: () => void): void {
  try {
    f()
  } catch (e) {
    console.error(`request sink failed: ${(e as Error).message}`)
  }
}

function internalError(e: unknown): GatewayError {
  console.error(`internal error: ${(e as Error)?.message ?? e}`)
  return new GatewayError('upstream', 500, 'internal_error', 'The gateway failed to handle this request.')
}
