/**
 * Anthropic's provider-side objects: message batches (`type: "message_batch"`, results
 * available for 29 days after creation), files (`type: "file"`, kept until deleted) and
 * code-execution containers, which a message makes and names in its answer
 * (`container: { id, expires_at }`, streamed in `message_delta.delta.container`) and a later
 * request reuses (`container: "<id>"`, or `{ id, skills }`); each answer restates the expiry.
 * Lists answer `{ data: [...], has_more, first_id, last_id }`.
 */
import type { CreatedObject, ObjectFormat, ObjectKind } from '../types'
import { DAY_MS, filterArray, instantToMs, record, str, stringsUnder } from '../shared/object-json'

const BATCH_TTL_MS = 29 * DAY_MS

/** Where a message names a file: `{ type: "document" | "image" | "container_upload", source: { type: "file", file_id } }`. */
const FILE_ID = new Set(['file_id'])

/**
 * A container's record lasts at least this long from the answer that named it: the upstream
 * judges its expiry (an expired one gets Anthropic's own error), and a gateway clock ahead of
 * Anthropic's must not refuse the owner a container it was just handed.
 */
const CONTAINER_MIN_MS = 3_600_000

/** The container a message answer (or its `message_delta`/`message_start` event) names. */
function containerOf(json: unknown, now: number): CreatedObject[] {
  const c = record(json)?.container
  const id = typeof c === 'string' ? c : str(record(c)?.id)
  if (!id) return []
  return [{ id, expiresAt: Math.max(instantToMs(record(c)?.expires_at) ?? 0, now + CONTAINER_MIN_MS) }]
}

/** A request's container: `"<id>"` or `{ id, skills }` (skills alone asks for a new one). */
function containerRef(v: unknown): string | undefined {
  return typeof v === 'string' ? str(v) : str(record(v)?.id)
}

function typeOf(kind: ObjectKind): string | undefined {
  if (kind === 'batch' || kind === 'message_batch') return 'message_batch'
  if (kind === 'file') return 'file'
  return undefined
}

export const anthropicObjects: ObjectFormat = {
  createdObject(kind, json, now): CreatedObject | undefined {
    const body = record(json)
    const id = str(body?.id)
    if (!body || !id || body.type !== typeOf(kind)) return undefined
    if (body.type === 'message_batch') return { id, expiresAt: (instantToMs(body.created_at) ?? now) + BATCH_TTL_MS }
    return { id }
  },

  yielded(kind, json, now) {
    return kind === 'container' ? containerOf(json, now) : []
  },

  streamYielded(kind, event, data, now) {
    // Only the events that can carry it, and only when they do (most events are not parsed).
    if (kind !== 'container' || (event !== undefined && event !== 'message_delta' && event !== 'message_start') || !data.includes('"container"')) return []
    try {
      const e = record(JSON.parse(data))
      return containerOf(e?.type === 'message_start' ? e.message : record(e?.delta), now)
    } catch {
      return []
    }
  },

  filterList(_kind, json, keep) {
    return filterArray(json, 'data', (item) => str(record(item)?.id), keep)
  },

  emptyList() {
    return { data: [], has_more: false, first_id: null, last_id: null }
  },

  references(json) {
    // A message's file blocks, or those of every request in a batch; the container it (or each request) reuses.
    const out: { kind: ObjectKind; id: string }[] = stringsUnder([json.messages, json.system, json.requests], FILE_ID).map((id) => ({ kind: 'file' as const, id }))
    const params = Array.isArray(json.requests) ? json.requests.map((r) => record(record(r)?.params)) : []
    for (const p of [json, ...params]) {
      const id = containerRef(p?.container)
      if (id) out.push({ kind: 'container', id })
    }
    return out
  },

  // A batch's `results_url` names api.anthropic.com: the SDK's results() would take the gateway key there.
  pointBack: {
    kinds: ['message_batch'],
    rewrite(json, from, to) {
      const body = record(json)
      const items = Array.isArray(body?.data) ? body.data : [body]
      let changed = false
      for (const item of items) {
        const batch = record(item)
        const url = batch?.results_url
        if (!batch || typeof url !== 'string') continue
        batch.results_url = url.startsWith(`${from}/`) ? to + url.slice(from.length) : null
        changed = true
      }
      return changed
    },
  },

  notFoundMessage(kind, id) {
    if (kind === 'container') return `Container ${id} not found.`
    return typeOf(kind) === 'message_batch' ? `Message batch ${id} not found.` : `File ${id} not found.`
  },
}
