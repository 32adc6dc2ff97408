/**
 * The admin API as an Elysia plugin: routes declare their TypeBox schemas in Elysia's own route
 * options, Elysia validates them, and @elysiajs/openapi writes the document from them.
 * Every route is registered on the instance `adminApi` returns, after its `derive`, so each one
 * authenticates (session or admin token) and checks CSRF before validation and its handler:
 * no handler can forget to. Unknown fields are refused (400), not dropped: body schemas say
 * `additionalProperties: false` and the app runs with `normalize: false` (src/app.ts).
 */
import { Elysia, type ValidationError } from 'elysia'
import type { TSchema } from '@sinclair/typebox'
import type { AdminContext } from './context'
import { publicBase } from './context'
import type { Principal } from './authz'
import { checkCsrf } from './csrf'
import { AdminError, badRequest, unauthenticated } from './errors'
import { GatewayError } from '../errors'
import { readBody } from '../proxy/body'
import { clientAddress, type PeerSource } from './client-address'
import { Ok } from './schemas'
import { presented, principalOf, type CookieJar } from './session'

export const API_PREFIX = '/api/v1'

let seed = 0

/** The plugin every admin route is added to; `ctx` and the caller `p` are in each handler's context. */
export function adminApi(ctx: AdminContext) {
  return new Elysia({ name: 'admin-api', prefix: API_PREFIX, seed: ++seed })
    .onError(function adminApiError({ code, error, request }) {
      if (error instanceof AdminError) return error.toResponse()
      if (code === 'VALIDATION') return badRequest(validationMessage(error, request)).toResponse()
      if (code === 'PARSE') return badRequest('The body is not valid JSON.').toResponse()
      const e = error as { message?: string; cause?: { code?: string; message?: string } }
      console.error(`admin api: ${request.method} ${new URL(request.url).pathname} failed: ${e?.message ?? e} (${e?.cause?.code ?? ''} ${e?.cause?.message ?? ''})`)
      return new AdminError(500, 'internal_error', 'The admin API failed to handle this request.').toResponse()
    })
    .derive(async function adminCaller({ request, cookie, server, set }) {
      const p = await authenticate(ctx, request, cookie, server)
      set.headers['cache-control'] = 'no-store'
      return { ctx, p }
    })
}

export type AdminApi = ReturnType<typeof adminApi>

/**
 * The caller of an admin route. An address past its failed attempts is refused before its
 * credential is looked up; a credential that does not authenticate counts as an attempt,
 * no credential at all does not.
 */
async function authenticate(ctx: AdminContext, request: Request, cookie: CookieJar, server: PeerSource | null): Promise<Principal> {
  const address = clientAddress(request, server, ctx.trusted)
  ctx.attempts.check(address)
  const cred = presented(request, cookie)
  const p = await principalOf(ctx, cred)
  if (!p) {
    if (cred) ctx.attempts.fail(address)
    throw unauthenticated()
  }
  checkCsrf(request, p, new URL(publicBase(ctx.config, request)).origin)
  return p
}

const lower = (s: string) => s.charAt(0).toLowerCase() + s.slice(1)

/** `body.limits.daily_nanos: expected integer`, as the API has always named a bad field. */
function validationMessage(error: Readonly<ValidationError>, request: Request): string {
  const first = error.valueError
  if (!first) return `${error.type}: invalid`
  let where = error.type
  let path = first.path.replace(/^\//, '').replace(/\//g, '.')
  if (where === 'property') {
    // A query number out of bounds fails inside Elysia's string-to-number decoding, which knows
    // no field name: name the query field that holds the refused value.
    where = 'query'
    path = [...new URL(request.url).searchParams].find(([, v]) => v === String(error.value))?.[0] ?? ''
  }
  let what = first.message
  if (what.startsWith('Unexpected property')) what = 'unknown field'
  else if (what === 'Expected union value' && first.errors.length) {
    // Say what each alternative expected, leaving out Elysia's own string-encoded forms of query values.
    const alts = first.errors.map((it) => it.First()?.message).filter((m): m is string => !!m && !/ to match '.*' format$/.test(m))
    if (alts.length) what = [...new Set(alts)].map(lower).join(' or ')
  }
  return `${where}${path ? `.${path}` : ''}: ${lower(what)}`
}

/** Admin bodies are small (a key, a project, a provider): past this, a 413. */
const ADMIN_BODY_BYTES = 1024 * 1024
/** How long a caller may take to send its admin body. */
const ADMIN_BODY_MS = 10_000
const utf8 = new TextDecoder()

/** What the parser leaves: the body is read only once the caller is known (see `json`). */
const UNREAD = Object.freeze({ unread: true })
const leaveUnread = () => UNREAD

/** The body as JSON whatever the content type says; an empty body is `{}`. */
async function readJson(request: Request): Promise<unknown> {
  let bytes: Uint8Array | null
  try {
    bytes = await readBody(request, ADMIN_BODY_BYTES, ADMIN_BODY_MS)
  } catch (e) {
    if (e instanceof GatewayError) throw new AdminError(e.status, e.code, e.message)
    throw e
  }
  const text = bytes ? utf8.decode(bytes) : ''
  if (!text) return {}
  try {
    return JSON.parse(text)
  } catch {
    throw badRequest('The body is not valid JSON.')
  }
}

/**
 * A route with a JSON body, validated by `schema`. Elysia parses bodies before any hook runs:
 * the parser leaves the body unread, so a caller not yet authenticated costs no body read, and
 * `transform` (after the caller's `derive`, before validation) reads it, bounded in size and time.
 * The `'json'` after the parser never runs; it names the media type in the OpenAPI document.
 */
export const json = <B extends TSchema>(schema: B) => ({
  parse: [leaveUnread, 'json' as const],
  body: schema,
  async transform(c: { body: unknown; request: Request }) {
    c.body = await readJson(c.request)
  },
})

/** TypeBox schemas are JSON Schema; drop its internal symbols by a JSON round trip. */
export const plain = (s: TSchema) => JSON.parse(JSON.stringify(s)) as Record<string, unknown>

const ERROR = { $ref: '#/components/responses/Error' }

/**
 * A route's OpenAPI operation (summary, tag, answer) and, for 201, the status it answers with.
 * The answer's schema is documentation only: Elysia would validate a `response` schema on
 * every answer, a cost and a new way to fail.
 */
export function doc(tag: string, summary: string, response?: TSchema, status: 200 | 201 = 200) {
  const schema = plain(response ?? Ok)
  const detail = {
    summary,
    tags: [tag],
    responses: {
      [String(status)]: { description: 'OK', content: { 'application/json': { schema } } },
      '400': ERROR,
      '401': ERROR,
      '403': ERROR,
      '404': ERROR,
      '429': { $ref: '#/components/responses/TooManyAttempts' },
    },
  }
  return {
    detail,
    beforeHandle({ set }: { set: { status?: number | string } }) {
      set.status = status
    },
  }
}
