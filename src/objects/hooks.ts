/**
 * Project isolation of provider-side objects, as pipeline hooks (src/proxy/context.ts):
 * - `admit`: a request naming an object (Classification.object) goes upstream only for the
 *   project that owns it; any other key gets the format's own 404, as if it did not exist.
 *   An id the gateway never saw created (made before Tollgate, or by another tool with the
 *   same credential) is refused the same way: default deny, since the gateway cannot tell
 *   whose it is. A list (Classification.lists) loads the caller's ids of that kind;
 * - `response` / `stream`: a 2xx answer to a creating request (Classification.creates)
 *   records the new id for the caller's project; an answer about an owned object refreshes
 *   its expiry and records the objects the provider made for it (a batch's output file);
 * - `respond`: a list answer keeps only the caller's objects (a documented body change).
 * Wire knowledge comes from the format (ProviderApi.objects); `isolation = "none"` on a
 * provider turns all of this off for it.
 */
import { GatewayError, NotFoundError } from '../errors'
import type { ProxyContext, RequestHooks, ResponseChange, StreamObserver } from '../proxy/context'
import type { Classification, ObjectFormat, ObjectKind } from '../providers/types'
import type { ObjectStore } from './store'

/** Where a request's classification comes from (the handler's classify step, by default). */
export type ClassificationOf = (ctx: ProxyContext) => Classification | undefined

interface ListState {
  kind: ObjectKind
  provider: string
  owned: Set<string>
}

const utf8 = new TextDecoder()
const encoder = new TextEncoder()

export class ObjectHooks implements RequestHooks {
  private lists = new WeakMap<ProxyContext, ListState>()

  constructor(
    private readonly store: ObjectStore,
    private readonly classificationOf: ClassificationOf = (ctx) => ctx.classification,
    private readonly clock: () => number = Date.now,
  ) {}

  admit(ctx: ProxyContext): void | Promise<void> {
    const c = this.classificationOf(ctx)
    if (!c || (!c.object && !c.lists) || isolationOff(ctx)) return
    const provider = ctx.target.provider.id
    const format = ctx.target.api.objects
    const project = ctx.key.project
    if (c.object) {
      const { kind } = c.object
      const id = canonical(format, kind, c.object.id)
      const refuse = () => new NotFoundError(format?.notFoundMessage(kind, id) ?? 'Not found.', 'object_not_found')
      if (!format) throw refuse()
      const owner = this.store.owner(provider, kind, id)
      if (!(owner instanceof Promise)) {
        if (owner?.project !== project) throw refuse()
      } else {
        return owner.then(
          (o) => {
            if (o?.project !== project) throw refuse()
          },
          (e) => {
            throw unavailable(e)
          },
        )
      }
    }
    if (c.lists && format) {
      const kind = c.lists
      return this.store.owned(provider, kind, project).then(
        (owned) => void this.lists.set(ctx, { kind, provider, owned }),
        (e) => {
          throw unavailable(e)
        },
      )
    }
  }

  response(ctx: ProxyContext, body: unknown): void {
    const c = this.classificationOf(ctx)
    const format = ctx.target.api.objects
    if (!c || !format || isolationOff(ctx)) return
    const now = this.clock()
    const provider = ctx.target.provider.id
    const project = ctx.key.project
    if (c.creates) {
      const made = format.createdObject(c.creates, body, now)
      if (made) this.store.record(provider, c.creates, made.id, project, made.expiresAt)
      this.recordRelated(format, c.creates, body, now, provider, project)
    }
    if (c.object) {
      const { kind, action } = c.object
      const id = canonical(format, kind, c.object.id)
      if (action === 'delete') {
        void this.store.forget(provider, kind, id).catch(() => {})
        return
      }
      // The answer restates the object: a moved expiry (a PATCHed cached content) is kept.
      const same = format.createdObject(kind, body, now)
      if (same && same.id === id) this.store.record(provider, kind, id, project, same.expiresAt)
      this.recordRelated(format, kind, body, now, provider, project)
    }
  }

  stream(ctx: ProxyContext): StreamObserver | void {
    const c = this.classificationOf(ctx)
    const format = ctx.target.api.objects
    const kind = c?.creates
    if (!kind || !format?.streamedObject || isolationOff(ctx)) return
    const { store, clock } = this
    const provider = ctx.target.provider.id
    const project = ctx.key.project
    let found = false
    return {
      event(name, data) {
        if (found) return
        const made = format.streamedObject!(kind, name, data, clock())
        if (!made) return
        found = true
        store.record(provider, kind, made.id, project, made.expiresAt)
      },
    }
  }

  respond(ctx: ProxyContext, body: Uint8Array): ResponseChange | void {
    const list = this.lists.get(ctx)
    const format = ctx.target.api.objects
    if (!list || !format) return
    let json: unknown
    try {
      json = JSON.parse(utf8.decode(body))
    } catch {
      return
    }
    const project = ctx.key.project
    const { kind, provider, owned } = list
    const kept = format.filterList(kind, json, (id) => this.store.owns(provider, kind, canonical(format, kind, id), project, owned))
    if (kept === undefined) return
    return { body: encoder.encode(JSON.stringify(kept)) }
  }

  private recordRelated(format: ObjectFormat, kind: ObjectKind, body: unknown, now: number, provider: string, project: string): void {
    for (const r of format.relatedObjects?.(kind, body, now) ?? []) {
      this.store.record(provider, r.kind, canonical(format, r.kind, r.object.id), project, r.object.expiresAt)
    }
  }
}

function isolationOff(ctx: ProxyContext): boolean {
  return ctx.target.provider.isolation === 'none'
}

function canonical(format: ObjectFormat | undefined, kind: ObjectKind, id: string): string {
  return format?.canonicalId ? format.canonicalId(kind, id) : id
}

/** Ownership could not be read (database down): refuse rather than guess. */
function unavailable(e: unknown): GatewayError {
  console.error(`objects: ownership lookup failed: ${(e as Error)?.message ?? e}`)
  return new GatewayError('unavailable', 503, 'ownership_unavailable', 'The gateway cannot check who owns this object right now; try again later.', { retryable: true })
}
