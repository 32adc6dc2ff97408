/**
 * The classify step between route and admit: the route's format classifies the request with its
 * endpoint table (src/providers/<api>/endpoints.ts), and the core applies the format-free rules:
 * default deny, a metered request names its model, batch creation only where it can be held to limits.
 */
import type { KeyRecord } from '../auth/principal'
import type { ProjectConfig, ProviderConfig, UserConfig } from '../config/schema'
import { InvalidRequestError, NotFoundError, PermissionError, GatewayError } from '../errors'
import type { Classification, InboundRequest, ProviderApi } from '../providers/types'
import { normalizePath } from '../providers/registry'

export interface Caller {
  routeName: string
  key: KeyRecord
  user: UserConfig | undefined
  project: ProjectConfig | undefined
  /** Any spend limit or prepaid credits on the key, its user or its project: spend there must be priced. */
  limited: boolean
}

const globs = new WeakMap<readonly string[], RegExp[]>()

/** `passthrough_paths` as regexes over the normalised path: `*` is one segment, `**` the rest. */
function passthroughPatterns(paths: readonly string[]): RegExp[] {
  let re = globs.get(paths)
  if (!re) {
    re = paths.map((p) => {
      const src = normalizePath(p)
        .split(/(\*\*|\*)/)
        .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('')
      return new RegExp(`^${src}$`)
    })
    globs.set(paths, re)
  }
  return re
}

/** The operator's escape hatch from default deny: a path no row matches but `passthrough_paths` lets through. */
function passthrough(req: InboundRequest, provider: ProviderConfig | undefined, caller: Caller): Classification | undefined {
  const paths = provider?.passthrough_paths
  if (!paths?.length) return undefined
  const path = normalizePath(req.path)
  if (!passthroughPatterns(paths).some((re) => re.test(path))) return undefined
  // Nothing about a passthrough request can be priced or checked against a model list.
  if (caller.key.models || caller.limited) {
    throw new PermissionError(
      `/${caller.routeName}/${path} is a passthrough path: the gateway cannot check its model or price it, so keys with a model allow-list or a spend limit may not use it.`,
      'passthrough_not_allowed',
    )
  }
  return { operation: 'passthrough', class: 'passthrough', stream: false }
}

export function classifyInbound(api: ProviderApi, req: InboundRequest, caller: Caller, provider?: ProviderConfig): Classification | undefined {
  if (!api.classify) return undefined
  const c = api.classify(req) ?? passthrough(req, provider, caller)
  if (!c) throw new NotFoundError(`No ${api.api} endpoint ${req.method} /${caller.routeName}/${normalizePath(req.path)} on this gateway.`, 'unknown_url')
  if (c.class === 'refused') throw new GatewayError('invalid_request', c.refusal?.status ?? 403, 'endpoint_refused', c.refusal?.message ?? `${req.method} /${req.path} is refused by this gateway.`)
  if (c.class === 'metered' && !c.model && !c.batch) {
    if (req.body && !req.json) throw new InvalidRequestError('Request body must be a JSON object with a model.', 'invalid_json')
    throw new InvalidRequestError('model: Field required', 'missing_model')
  }
  // A batch's requests live in a file the gateway never reads: only keys it need not price may create one.
  if (c.creates === 'batch' && (caller.key.models || caller.limited)) {
    throw new PermissionError(
      'Batch jobs cannot be checked against this key\'s model allow-list or priced against its limits before they run, so this gateway refuses them for keys with either. Use a key without limits or an allow-list.',
      'batch_not_allowed',
    )
  }
  return c
}
