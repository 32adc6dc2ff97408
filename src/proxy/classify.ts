/**
 * The classify step between route and admit: the route's format classifies the request with its
 * endpoint table (src/providers/<api>/endpoints.ts), and the core applies the format-free rules:
 * default deny, a metered request names its model, batch creation only where it can be held to limits.
 */
import type { KeyRecord } from '../auth/principal'
import type { ProjectConfig, UserConfig } from '../config/schema'
import { InvalidRequestError, NotFoundError, PermissionError, GatewayError } from '../errors'
import type { Classification, InboundRequest, ProviderApi } from '../providers/types'

export interface Caller {
  routeName: string
  key: KeyRecord
  user: UserConfig | undefined
  project: ProjectConfig | undefined
  hasCredits(project: string): boolean
}

/** Any limit or prepaid credits on the key, its user or its project: spend there must be priced. */
export function isLimited(c: Caller): boolean {
  const some = (l: object | undefined) => !!l && Object.values(l).some((v) => typeof v === 'number')
  return some(c.key.limits) || some(c.user?.limits) || some(c.project?.limits) || c.hasCredits(c.key.project)
}

export function classifyInbound(api: ProviderApi, req: InboundRequest, caller: Caller): Classification | undefined {
  if (!api.classify) return undefined
  const c = api.classify(req)
  if (!c) throw new NotFoundError(`No ${api.api} endpoint ${req.method} /${caller.routeName}/${req.path} on this gateway.`, 'unknown_url')
  if (c.class === 'refused') throw new GatewayError('invalid_request', c.refusal?.status ?? 403, 'endpoint_refused', c.refusal?.message ?? `${req.method} /${req.path} is refused by this gateway.`)
  if (c.class === 'metered' && !c.model && !c.batch) {
    if (req.body && !req.json) throw new InvalidRequestError('Request body must be a JSON object with a model.', 'invalid_json')
    throw new InvalidRequestError('model: Field required', 'missing_model')
  }
  // A batch's requests live in a file the gateway never reads: only keys it need not price may create one.
  if (c.creates === 'batch' && (caller.key.models || isLimited(caller))) {
    throw new PermissionError(
      'Batch jobs cannot be checked against this key\'s model allow-list or priced against its limits before they run, so this gateway refuses them for keys with either. Use a key without limits or an allow-list.',
      'batch_not_allowed',
    )
  }
  return c
}
