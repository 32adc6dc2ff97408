/**
 * A small route table for the admin API: each route declares its TypeBox schemas once, and
 * they serve both to validate the request and to write the OpenAPI document. Every route
 * authenticates (session or admin token) and checks CSRF before its handler runs, so no
 * handler can forget to. Bodies and queries are validated here, not by Elysia, so that
 * unknown fields are refused (400) rather than silently dropped.
 */
import type { Elysia } from 'elysia'
import type { Static, TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import type { AdminContext } from './context'
import { publicBase } from './context'
import type { Principal } from './authz'
import { checkCsrf } from './csrf'
import { AdminError, badRequest, unauthenticated } from './errors'
import { clientAddress, type PeerSource } from './client-address'
import { presented, principalOf, type CookieJar } from './session'

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface RouteSpec<Q extends TSchema | undefined, B extends TSchema | undefined> {
  summary: string
  tag: string
  query?: Q
  body?: B
  response?: TSchema
  /** Status of a successful answer (default 200). */
  status?: number
}

type Input<S> = S extends TSchema ? Static<S> : undefined

export interface HandlerArgs<Q, B> {
  ctx: AdminContext
  p: Principal
  params: Record<string, string>
  query: Q
  body: B
  request: Request
  /** Elysia's cookie jar: the request's cookies, and those the answer sets (a handler's own Response must not set any itself). */
  cookie: CookieJar
}

export interface RouteDef {
  method: Method
  path: string
  spec: RouteSpec<TSchema | undefined, TSchema | undefined>
  handler: (a: HandlerArgs<any, any>) => unknown
}

export const API_PREFIX = '/api/v1'

export class ApiRouter {
  readonly routes: RouteDef[] = []

  constructor(readonly ctx: AdminContext) {}

  private add<Q extends TSchema | undefined, B extends TSchema | undefined>(
    method: Method,
    path: string,
    spec: RouteSpec<Q, B>,
    handler: (a: HandlerArgs<Input<Q>, Input<B>>) => unknown,
  ): void {
    this.routes.push({ method, path, spec, handler: handler as RouteDef['handler'] })
  }

  get<Q extends TSchema | undefined = undefined>(path: string, spec: RouteSpec<Q, undefined>, h: (a: HandlerArgs<Input<Q>, undefined>) => unknown) {
    this.add('GET', path, spec, h)
  }
  post<B extends TSchema | undefined = undefined>(path: string, spec: RouteSpec<undefined, B>, h: (a: HandlerArgs<undefined, Input<B>>) => unknown) {
    this.add('POST', path, spec, h)
  }
  put<B extends TSchema | undefined = undefined>(path: string, spec: RouteSpec<undefined, B>, h: (a: HandlerArgs<undefined, Input<B>>) => unknown) {
    this.add('PUT', path, spec, h)
  }
  patch<B extends TSchema | undefined = undefined>(path: string, spec: RouteSpec<undefined, B>, h: (a: HandlerArgs<undefined, Input<B>>) => unknown) {
    this.add('PATCH', path, spec, h)
  }
  delete(path: string, spec: RouteSpec<undefined, undefined>, h: (a: HandlerArgs<undefined, undefined>) => unknown) {
    this.add('DELETE', path, spec, h)
  }

  mount<T extends Elysia<any, any, any, any, any, any, any>>(app: T): T {
    for (const r of this.routes) {
      const handle = ({ request, params, cookie, server }: { request: Request; params: Record<string, string>; cookie: CookieJar; server: PeerSource | null }) =>
        this.run(r, request, params, cookie, server)
      // Elysia's route typing cannot follow a table of routes; the handler's shape is checked above.
      app.route(r.method, API_PREFIX + r.path, handle as never, { parse: 'none' })
    }
    return app
  }

  private async run(r: RouteDef, request: Request, params: Record<string, string>, cookie: CookieJar, server: PeerSource | null): Promise<Response> {
    try {
      // An address past its failed attempts is refused before its credential is looked up.
      const address = clientAddress(request, server, this.ctx.trusted)
      this.ctx.attempts.check(address)
      const cred = presented(request, cookie)
      const p = await principalOf(this.ctx, cred)
      if (!p) {
        // A credential that does not authenticate counts; no credential at all is not an attempt.
        if (cred) this.ctx.attempts.fail(address)
        throw unauthenticated()
      }
      checkCsrf(request, p, new URL(publicBase(this.ctx.config, request)).origin)
      const query = r.spec.query ? validate(r.spec.query, Object.fromEntries(new URL(request.url).searchParams), 'query', true) : undefined
      let body: unknown
      if (r.spec.body) {
        const text = await request.text()
        let json: unknown
        try {
          json = text ? JSON.parse(text) : {}
        } catch {
          throw badRequest('The body is not valid JSON.')
        }
        body = validate(r.spec.body, json, 'body', false)
      }
      const decoded = Object.fromEntries(Object.entries(params ?? {}).map(([k, v]) => [k, safeDecode(v)]))
      const result = await r.handler({ ctx: this.ctx, p, params: decoded, query, body, request, cookie })
      if (result instanceof Response) return result
      return Response.json(result ?? { ok: true }, { status: r.spec.status ?? 200, headers: { 'cache-control': 'no-store' } })
    } catch (e) {
      if (e instanceof AdminError) return e.toResponse()
      console.error(`admin api: ${r.method} ${r.path} failed: ${(e as Error)?.message ?? e} (${(e as { cause?: { code?: string; message?: string } })?.cause?.code ?? ''} ${(e as { cause?: { message?: string } })?.cause?.message ?? ''})`)
      return new AdminError(500, 'internal_error', 'The admin API failed to handle this request.').toResponse()
    }
  }
}

function validate(schema: TSchema, value: unknown, where: string, convert: boolean): unknown {
  let v = Value.Clone(value)
  if (convert) v = Value.Convert(schema, v)
  v = Value.Default(schema, v)
  const first = Value.Errors(schema, v).First()
  if (first) {
    const path = first.path.replace(/^\//, '').replace(/\//g, '.')
    const what = first.message.startsWith('Unexpected property') ? 'unknown field' : first.message.charAt(0).toLowerCase() + first.message.slice(1)
    throw badRequest(`${where}${path ? `.${path}` : ''}: ${what}`)
  }
  return v
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}
