/**
 * Project isolation of provider-side objects, steps of the request pipeline (src/proxy/pipeline.ts),
 * over the request's classification (x.classification, from the format's endpoint table):
 * - `check` (admit): a request naming an object in its path (Classification.object), or in its body
 *   (ObjectFormat.references: a `previous_response_id`, a batch's input file, file ids in
 *   input), goes upstream only when the caller's project owns every one; otherwise the
 *   format's own 404, as if the object did not exist, and the upstream is never called.
 *   An id the gateway never saw created (made before Tollgate, or by another tool with the
 *   same credential) is refused the same way: default deny, since the gateway cannot tell
 *   whose it is. A list (Classification.lists) loads the caller's ids of that kind;
 * - `remember` / `streamTap` (meter): a 2xx answer to a creating request (Classification.creates)
 *   records the new id for the caller's project, and objects a metered answer says it made
 *   or kept alive (Classification.yields: a code-execution container) are the caller's too; an answer to a change of an owned object
 *   records a moved expiry; any answer about one records the objects the provider made for it
 *   (a batch's output file);
 * - `rewrite` (respond): a list answer keeps only the caller's objects (a documented body change); a
 *   2xx list answer the format cannot read becomes an empty list (fail closed). URLs in an
 *   answer that the client follows (Anthropic's `results_url`) are pointed at the gateway.
 * Wire knowledge comes from the format (ProviderApi.objects); `isolation = "none"` on a
 * provider turns all of this off for it.
 */
import { GatewayError, NotFoundError } from '../errors'
import type { Exchange, StreamObserver } from '../proxy/exchange'
import type { Classification, ObjectFormat, ObjectKind } from '../providers/types'
import type { ObjectStore, Owner } from './store'

/** A list request's kind and the caller's ids of it (the request's `x.objectList`). */
export interface ObjectList {
  kind: ObjectKind
  provider: string
  owned: Set<string>
}

interface Named {
  kind: ObjectKind
  id: string
}

const ENCODED_SEPARATOR = /%(?:2f|5c)/i

const utf8 = new TextDecoder()
const encoder = new TextEncoder()

export class ObjectGuard {
  constructor(
    private readonly store: ObjectStore,
    private readonly clock: () => number = Date.now,
  ) {}

  check(ctx: Exchange): void | Promise<void> {
    const c = ctx.classification
    if (!c || isolationOff(ctx)) return
    // An encoded slash or backslash would let an upstream that decodes it (then resolves `..`)
    // reach another object than the one checked: no object path needs one.
    if (c.class === 'object' && ENCODED_SEPARATOR.test(ctx.inbound.path)) throw new NotFoundError(`No object at /${ctx.inbound.path}.`, 'object_not_found')
    const named = namedObjects(c, ctx)
    if (!named.length && !c.lists) return
    const provider = ctx.target.provider.id
    const format = ctx.target.api.objects
    const project = ctx.key.project
    if (named.length) {
      // A format without object knowledge cannot say whose anything is: refuse.
      if (!format) throw notFound(undefined, named[0]!)
      const pending: Promise<void>[] = []
      for (const n of named) {
        const id = canonical(format, n.kind, n.id)
        const owner = this.store.owner(provider, n.kind, id)
        if (!(owner instanceof Promise)) checkOwner(owner, project, format, n)
        else pending.push(owner.then((o) => checkOwner(o, project, format, n), rethrowUnavailable))
      }
      if (pending.length || c.lists) return Promise.all(pending).then(() => this.loadList(ctx, c, format, provider, project))
      return
    }
    // A list no format can filter would show every project's objects: refuse it.
    if (!format) throw new NotFoundError('Not found.', 'object_not_found')
    return this.loadList(ctx, c, format, provider, project)
  }

  private loadList(ctx: Exchange, c: Classification, format: ObjectFormat | undefined, provider: string, project: string): Promise<void> | undefined {
    const kind = c.lists
    if (!kind || !format) return undefined
    return this.store.owned(provider, kind, project).then((owned) => void (ctx.objectList = { kind, provider, owned }), rethrowUnavailable)
  }

  remember(ctx: Exchange, body: unknown): void {
    const c = ctx.classification
    const format = ctx.target.api.objects
    if (!c || !format || isolationOff(ctx)) return
    const now = this.clock()
    const provider = ctx.target.provider.id
    const project = ctx.key.project
    if (c.yields) for (const made of format.yielded?.(c.yields, body, now) ?? []) this.store.record(provider, c.yields, canonical(format, c.yields, made.id), project, made.expiresAt)
    if (c.creates) {
      const made = format.createdObject(c.creates, body, now)
      if (made) this.store.record(provider, c.creates, canonical(format, c.creates, made.id), project, made.expiresAt)
      this.recordRelated(format, c.creates, body, now, provider, project)
    }
    if (c.object) {
      const { kind, action } = c.object
      const id = canonical(format, kind, c.object.id)
      if (action === 'delete') {
        this.store.forget(provider, kind, id, project)
        return
      }
      // A change restates the object: a moved expiry (a PATCHed cached content) is kept. Reads change nothing.
      if (action === 'write') {
        const same = format.createdObject(kind, body, now)
        if (same && canonical(format, kind, same.id) === id) this.store.record(provider, kind, id, project, same.expiresAt)
      }
      // Objects the provider made for this one (a finished batch's output file) are the owner's too.
      this.recordRelated(format, kind, body, now, provider, project)
    }
  }

  streamTap(ctx: Exchange): StreamObserver | undefined {
    const c = ctx.classification
    const format = ctx.target.api.objects
    if (!c || !format || isolationOff(ctx)) return undefined
    const kind = format.streamedObject ? c.creates : undefined
    const yields = format.streamYielded ? c.yields : undefined
    if (!kind && !yields) return undefined
    const { store, clock } = this
    const provider = ctx.target.provider.id
    const project = ctx.key.project
    let found = !kind
    return {
      event(name, data) {
        if (yields) for (const made of format.streamYielded!(yields, name, data, clock())) store.record(provider, yields, canonical(format, yields, made.id), project, made.expiresAt)
        if (found) return
        const made = format.streamedObject!(kind!, name, data, clock())
        if (!made) return
        found = true
        store.record(provider, kind!, canonical(format, kind!, made.id), project, made.expiresAt)
      },
    }
  }

  /** The body the client gets: a list keeps the caller's objects; links point at the gateway. Undefined: unchanged. */
  rewrite(ctx: Exchange, body: Uint8Array): Uint8Array | undefined {
    const c = ctx.classification
    const format = ctx.target.api.objects
    if (!c || !format || isolationOff(ctx)) return
    const list = ctx.objectList
    const kind = list?.kind ?? c.creates ?? c.object?.kind
    const links = kind !== undefined && format.pointBack?.kinds.includes(kind) ? format.pointBack : undefined
    if (!list && !links) return
    let json: unknown
    try {
      json = JSON.parse(utf8.decode(body))
    } catch {
      json = undefined
    }
    if (list) {
      const project = ctx.key.project
      const { provider, owned } = list
      const kept = json === undefined ? undefined : format.filterList(list.kind, json, (id) => this.store.owns(provider, list.kind, canonical(format, list.kind, id), project, owned))
      json = kept ?? format.emptyList(list.kind)
    } else if (json === undefined) return
    // On the provider's own route (its id): the object lives on that upstream, whatever group the client came through.
    const from = () => (ctx.target.provider.base_url ?? ctx.target.api.defaultBaseUrl).replace(/\/+$/, '')
    const pointed = links ? links.rewrite(json, from(), `${ctx.inbound.gatewayBase}/${encodeURIComponent(ctx.target.provider.id)}`) : false
    if (!list && !pointed) return
    return encoder.encode(JSON.stringify(json))
  }

  private recordRelated(format: ObjectFormat, kind: ObjectKind, body: unknown, now: number, provider: string, project: string): void {
    for (const r of format.relatedObjects?.(kind, body, now) ?? []) {
      this.store.record(provider, r.kind, canonical(format, r.kind, r.object.id), project, r.object.expiresAt)
    }
  }
}

/**
 * The objects a request names: the one in its path, and, for requests that read stored
 * context, create or change an object, or are free (count_tokens over a previous response),
 * those its body names (read from the parsed body; only these requests pay for the walk).
 */
function namedObjects(c: Classification, ctx: Exchange): Named[] {
  const out: Named[] = c.object ? [{ kind: c.object.kind, id: c.object.id }] : []
  const json = ctx.inbound.json
  const references = ctx.target.api.objects?.references
  // Metered requests that name nothing by reference (most of the traffic) skip the walk; count_tokens does not.
  const reads = c.contextByReference || c.creates || c.object?.action === 'write' || c.class === 'free'
  if (json && references && reads) out.push(...references(json))
  return out
}

function checkOwner(owner: Owner | undefined, project: string, format: ObjectFormat, n: Named): void {
  if (owner?.project !== project) throw notFound(format, n)
}

function notFound(format: ObjectFormat | undefined, n: Named): NotFoundError {
  return new NotFoundError(format?.notFoundMessage(n.kind, n.id) ?? 'Not found.', 'object_not_found')
}

function isolationOff(ctx: Exchange): boolean {
  return ctx.target.provider.isolation === 'none'
}

function canonical(format: ObjectFormat | undefined, kind: ObjectKind, id: string): string {
  return format?.canonicalId ? format.canonicalId(kind, id) : id
}

/** Ownership could not be read (database down): refuse rather than guess. */
function rethrowUnavailable(e: unknown): never {
  if (e instanceof GatewayError) throw e
  console.error(`objects: ownership lookup failed: ${(e as Error)?.message ?? e}`)
  throw new GatewayError('unavailable', 503, 'ownership_unavailable', 'The gateway cannot check who owns this object right now; try again later.', { retryable: true })
}
