/**
 * `GET /v1/spend`: spend, limit, remaining and reset time per scope, as JSON, from the live
 * budget. An admin key (its user has role admin) sees every scope, narrowed by ?project=,
 * ?user=, ?key= and ?window=; any other key sees its own key only.
 */
import { authenticate } from '../auth/authenticate'
import type { KeyStore } from '../auth/keystore'
import { GatewayError, InvalidRequestError } from '../errors'
import { FRONT_DOOR_API } from '../providers/registry'
import { keyScopes } from './keys'
import { type ReportFilter, WINDOW_NAMES, scopesFor, spendLines } from './report'
import type { Spend } from './service'
import { WINDOWS } from './windows'

export async function spendRoute(request: Request, spend: Spend, keys: KeyStore, redact: (text: string) => string): Promise<Response> {
  try {
    const key = await authenticate(request.headers, keys)
    const q = new URL(request.url).searchParams
    const w = q.get('window')
    if (w !== null && !WINDOW_NAMES[w]) throw new InvalidRequestError(`window must be one of day, week, month, total; got "${w}".`, 'invalid_window')
    const windows = w ? [WINDOW_NAMES[w]!] : [...WINDOWS]
    const config = spend.config
    const admin = key.user !== undefined && config.users.some((u) => u.id === key.user && u.role === 'admin')
    const nanos = spend.nanos.bind(spend)
    let scopes
    if (admin) {
      const filter: ReportFilter = { project: q.get('project') ?? undefined, user: q.get('user') ?? undefined, key: q.get('key') ?? undefined }
      scopes = scopesFor(config, await keyScopes(spend.db, config, nanos), filter, nanos)
    } else {
      scopes = [{ kind: 'key' as const, id: key.id, project: key.project, user: key.user, limits: nanos(key.limits) }]
    }
    return Response.json({
      timezone: config.limits.timezone,
      as_of: new Date(spend.clock()).toISOString(),
      scope: admin ? 'admin' : 'key',
      data: spendLines(spend.budget, scopes, windows),
    })
  } catch (e) {
    const err = e instanceof GatewayError ? e : new GatewayError('upstream', 500, 'internal_error', 'The gateway failed to report spend.')
    return err.renderIn(FRONT_DOOR_API.errors, redact)
  }
}
