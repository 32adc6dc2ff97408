/**
 * Anthropic's provider-side objects: message batches (`type: "message_batch"`, results
 * available for 29 days after creation) and files (`type: "file"`, kept until deleted).
 * Lists answer `{ data: [...], has_more, first_id, last_id }`.
 */
import type { CreatedObject, ObjectFormat, ObjectKind } from '../types'
import { DAY_MS, filterArray, instantToMs, record, str, stringsUnder } from '../shared/object-json'

const BATCH_TTL_MS = 29 * DAY_MS

/** Where a message names a file: `{ type: "document" | "image" | "container_upload", source: { type: "file", file_id } }`. */
const FILE_ID = new Set(['file_id'])

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

  filterList(_kind, json, keep) {
    return filterArray(json, 'data', (item) => str(record(item)?.id), keep)
  },

  emptyList() {
    return { data: [], has_more: false, first_id: null, last_id: null }
  },

  references(json) {
    // A message's file blocks, or those of every request in a batch.
    return stringsUnder([json.messages, json.system, json.requests], FILE_ID).map((id) => ({ kind: 'file' as const, id }))
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
    return typeOf(kind) === 'message_batch' ? `Message batch ${id} not found.` : `File ${id} not found.`
  },
}
