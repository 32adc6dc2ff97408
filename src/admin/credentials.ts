/**
 * Providers and their credentials (BYOK). A credential is sealed with `[secrets] key` before it
 * is stored and is never returned again: answers carry its last four characters only.
 * Without a usable key the API refuses to store credentials and says why.
 */
import { eq } from 'drizzle-orm'
import { Type } from '@sinclair/typebox'
import { PROVIDER_APIS as CONFIG_APIS } from '../config/schema'
import { adminProviders } from '../db/schema-admin'
import { providerApi } from '../providers/registry'
import { reservedName } from '../config/reserved'
import { refusedHeader } from '../net/header-policy'
import { checkBaseUrl, connectRefusal, isListedBaseUrl, type NetworkPolicy } from '../net/upstream-guard'
import { audit } from './audit'
import { canSeeProvider, isProjectAdmin, requireOrgAdmin, requireProjectAdmin, type Principal } from './authz'
import type { AdminContext } from './context'
import { last4 } from './crypto'
import type { ProviderView } from './directory'
import { AdminError, badRequest, conflict, forbidden, notFound, readOnly } from './errors'
import { doc, json, type AdminApi } from './api'
import { Id, Nullable, Source } from './schemas'

const Provider = Type.Object({
  id: Type.String(),
  api: Type.String(),
  base_url: Nullable(Type.String()),
  project: Nullable(Type.String()),
  enabled: Type.Boolean(),
  has_key: Type.Boolean(),
  key_last4: Nullable(Type.String()),
  source: Source,
  created_at: Nullable(Type.Integer()),
  /** Set when a database provider's id is a reserved name (made before the rule): why. It is not routed. */
  reserved_name_conflict: Nullable(Type.String()),
})

const Api = Type.Union(CONFIG_APIS.map((a) => Type.Literal(a)))
const BaseUrl = Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 500 })
const HeaderMap = Type.Record(Type.String({ pattern: '^[A-Za-z0-9-]+$' }), Type.String({ maxLength: 1000 }))

/** The models endpoint each api answers, for "test connection". */
const MODELS_PATH: Record<string, string> = { openai: 'models', anthropic: 'v1/models', groq: 'openai/v1/models' }

function view(x: ProviderView) {
  return {
    id: x.id,
    api: x.api,
    base_url: x.baseUrl ?? null,
    project: x.project ?? null,
    enabled: x.enabled,
    has_key: x.hasKey,
    key_last4: x.keyLast4 || null,
    source: x.source,
    created_at: x.createdAt ?? null,
    reserved_name_conflict: x.reservedConflict ?? null,
  }
}

function visibleProvider(ctx: AdminContext, p: Principal, id: string): ProviderView {
  const x = ctx.dir.provider(id)
  if (!x || !canSeeProvider(p, ctx.dir, id)) throw notFound('provider')
  return x
}

/** Org-wide providers are the org admins'; a project's own providers are its admins'. */
function requireManage(ctx: AdminContext, p: Principal, x: ProviderView): void {
  if (x.project ? !isProjectAdmin(p, x.project) : !p.orgAdmin) throw forbidden('Only an admin of the provider\'s owner can change it.')
}

function networkPolicy(ctx: AdminContext): NetworkPolicy {
  return { allowedBaseUrls: ctx.config.admin.allowed_base_urls ?? [], allowPrivate: ctx.config.admin.allow_private_upstreams ?? false }
}

/**
 * Where an admin-made provider may point: project admins only at the api's default endpoint or a
 * base URL listed in `[admin] allowed_base_urls`; org admins also elsewhere, if public (net/).
 */
async function requireBaseUrl(ctx: AdminContext, p: Principal, baseUrl: string): Promise<void> {
  const policy = networkPolicy(ctx)
  if (!p.orgAdmin && !isListedBaseUrl(baseUrl, policy))
    throw forbidden('Only an organisation admin can set base_url (project admins: the default endpoint, or a URL listed in [admin] allowed_base_urls).')
  const why = await checkBaseUrl(baseUrl, policy)
  if (why) throw badRequest(why)
}

function requireHeaders(p: Principal, headers: Record<string, string> | undefined): void {
  if (!headers || !Object.keys(headers).length) return
  if (!p.orgAdmin) throw forbidden('Only an organisation admin can set headers.')
  for (const name of Object.keys(headers)) {
    const why = refusedHeader(name)
    if (why) throw badRequest(why)
  }
}

function requireBox(ctx: AdminContext) {
  if (!ctx.box) throw new AdminError(400, 'secrets_key_missing', `Provider credentials cannot be stored: ${ctx.boxProblem}.`)
  return ctx.box
}

export function credentialRoutes(api: AdminApi): void {
  api.get(
    '/providers',
    ({ ctx, p }) => ({
      providers: ctx.dir
        .providers()
        .filter((x) => canSeeProvider(p, ctx.dir, x.id))
        .map(view),
    }),
    doc('providers', 'Providers the caller can see (credentials never included)', Type.Object({ providers: Type.Array(Provider) })),
  )

  api.post(
    '/providers',
    async ({ ctx, p, body }) => {
      if (body.project) requireProjectAdmin(p, body.project, ctx.dir)
      else requireOrgAdmin(p)
      const reserved = reservedName(body.id)
      if (reserved) throw badRequest(`id: ${reserved}`)
      requireHeaders(p, body.headers)
      if (body.base_url !== undefined) await requireBaseUrl(ctx, p, body.base_url)
      const box = requireBox(ctx)
      if (!providerApi(body.api)) throw badRequest(`api: "${body.api}" is not available in this build yet`)
      if (ctx.dir.idTaken('provider', body.id)) throw conflict(`A provider with id "${body.id}" already exists.`)
      const apiKey = body.api_key.trim()
      await ctx.db.insert(adminProviders).values({
        id: body.id,
        api: body.api,
        baseUrl: body.base_url,
        project: body.project,
        keyCiphertext: await box.seal(apiKey, body.id),
        keyLast4: last4(apiKey),
        headers: body.headers,
        enabled: true,
        createdAt: ctx.now(),
      })
      await audit(ctx, p, 'provider.create', 'provider', body.id, body.project, { api: body.api, base_url: body.base_url, key_last4: last4(apiKey) })
      await ctx.dir.reload()
      return view(ctx.dir.provider(body.id)!)
    },
    {
      ...json(Type.Object(
        {
          id: Id,
          api: Api,
          api_key: Type.String({ minLength: 1, maxLength: 4096 }),
          base_url: Type.Optional(BaseUrl),
          project: Type.Optional(Id),
          headers: Type.Optional(HeaderMap),
        },
        { additionalProperties: false },
      )),
      ...doc('providers', "Add a provider with its credential (org admin; a project admin for their project's own provider)", Provider, 201),
    },
  )

  api.get('/providers/:id', ({ ctx, p, params }) => view(visibleProvider(ctx, p, params.id)), doc('providers', 'One provider', Provider))

  api.patch(
    '/providers/:id',
    async ({ ctx, p, params, body }) => {
      const x = visibleProvider(ctx, p, params.id)
      requireManage(ctx, p, x)
      if (x.source === 'config') throw readOnly('Provider', x.id)
      if (body.base_url) await requireBaseUrl(ctx, p, body.base_url)
      const set: Partial<typeof adminProviders.$inferInsert> = {}
      if (body.api_key !== undefined) {
        const apiKey = body.api_key.trim()
        set.keyCiphertext = await requireBox(ctx).seal(apiKey, x.id)
        set.keyLast4 = last4(apiKey)
      }
      if (body.base_url !== undefined) set.baseUrl = body.base_url
      if (body.enabled !== undefined) set.enabled = body.enabled
      if (Object.keys(set).length) await ctx.db.update(adminProviders).set(set).where(eq(adminProviders.id, x.id))
      await audit(ctx, p, 'provider.update', 'provider', x.id, x.project, {
        base_url: body.base_url,
        enabled: body.enabled,
        ...(set.keyLast4 !== undefined ? { key_last4: set.keyLast4 } : {}),
      })
      await ctx.dir.reload()
      return view(ctx.dir.provider(x.id)!)
    },
    {
      ...json(Type.Object(
        { api_key: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })), base_url: Type.Optional(Nullable(BaseUrl)), enabled: Type.Optional(Type.Boolean()) },
        { additionalProperties: false },
      )),
      ...doc('providers', 'Replace the credential, change the base URL, or switch a provider off or on', Provider),
    },
  )

  api.delete(
    '/providers/:id',
    async ({ ctx, p, params }) => {
      const x = visibleProvider(ctx, p, params.id)
      requireManage(ctx, p, x)
      if (x.source === 'config') throw readOnly('Provider', x.id)
      await ctx.db.delete(adminProviders).where(eq(adminProviders.id, x.id))
      await audit(ctx, p, 'provider.delete', 'provider', x.id, x.project)
      await ctx.dir.reload()
      return { ok: true }
    },
    doc('providers', 'Delete a provider and its stored credential'),
  )

  api.post(
    '/providers/:id/test',
    async ({ ctx, p, params }) => {
      const x = visibleProvider(ctx, p, params.id)
      requireManage(ctx, p, x)
      return testConnection(ctx, x.id)
    },
    {
      ...doc('providers', "Test connection: calls the provider's models endpoint with the stored credential", Type.Object({ ok: Type.Boolean(), status: Type.Integer(), message: Type.String() })),
    },
  )
}

/** Never returns the upstream body: some providers echo part of a wrong key in it. */
async function testConnection(ctx: AdminContext, id: string): Promise<{ ok: boolean; status: number; message: string }> {
  const reserved = ctx.dir.provider(id)?.reservedConflict
  if (reserved) return { ok: false, status: 0, message: `This provider is not routed: ${reserved}. Add it again under another id.` }
  const prov = ctx.dir.runtimeProvider(id)
  const api = prov && providerApi(prov.api)
  const path = prov && MODELS_PATH[prov.api]
  if (!prov || !api || !path) return { ok: false, status: 0, message: 'This provider api has no models endpoint to test.' }
  if (prov.enabled === false) return { ok: false, status: 0, message: 'The provider is disabled (or its credential cannot be decrypted).' }
  const up = await api.prepare({ method: 'GET', path, search: '', headers: new Headers(), body: null, json: undefined, gatewayBase: '' }, prov)
  const refusal = connectRefusal(prov, up.url)
  const refused = refusal && (await refusal)
  if (refused) return { ok: false, status: 0, message: `Refused: ${refused}.` }
  try {
    const res = await fetch(up.url, { method: 'GET', headers: up.headers, signal: AbortSignal.timeout(10_000), redirect: 'manual' })
    await res.body?.cancel()
    if (res.ok) return { ok: true, status: res.status, message: 'Connected: the provider accepted the credential.' }
    const why = res.status === 401 || res.status === 403 ? 'the provider refused the credential' : 'the provider answered with an error'
    return { ok: false, status: res.status, message: `Failed: ${why} (HTTP ${res.status}).` }
  } catch (e) {
    return { ok: false, status: 0, message: `Failed: the provider could not be reached (${(e as Error).name}).` }
  }
}
