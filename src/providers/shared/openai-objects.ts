/**
 * OpenAI's provider-side objects (Groq's OpenAI-compatible API shares them): every one answers
 * as `{ id, object: "<kind>", … }`, lists as `{ object: "list", data: [...] }`.
 * Lifetimes, where the answer or the docs give one: `expires_at` (epoch seconds) on files,
 * uploads and vector stores; stored responses are kept 30 days. A batch's `expires_at` is its
 * completion deadline, not the object's end (an expired batch can still be read): kept.
 * Containers expire after minutes of inactivity, a window each use slides, and a use inside a
 * response (`tools[].container: "cntr_…"`) does not restate it: a container's record is kept 30
 * days from the last answer that named it (a created, read or changed container, or a
 * response whose code interpreter ran in it, `output[].container_id`). An auto container made
 * by a response (`container: { type: "auto" }`) is the response's project's.
 */
import type { CreatedObject, ObjectFormat, ObjectKind } from '../types'
import { DAY_MS, filterArray, record, secondsToMs, str, strings, stringsUnder } from './object-json'

/** The `object` field each kind answers with. */
const OBJECT_FIELD: Partial<Record<ObjectKind, string>> = {
  file: 'file',
  response: 'response',
  batch: 'batch',
  upload: 'upload',
  vector_store: 'vector_store',
  container: 'container',
  conversation: 'conversation',
}

const RESPONSE_TTL_MS = 30 * DAY_MS
const CONTAINER_TTL_MS = 30 * DAY_MS

const FILE_ID = new Set(['file_id'])

const NAMES: Partial<Record<ObjectKind, string>> = { file: 'File', batch: 'Batch', upload: 'Upload', vector_store: 'VectorStore', container: 'Container', conversation: 'Conversation' }

function described(kind: ObjectKind, json: unknown, now: number): CreatedObject | undefined {
  const body = record(json)
  const id = str(body?.id)
  if (!body || !id || body.object !== OBJECT_FIELD[kind]) return undefined
  // From when the gateway saw it: the answer comes right after creation, and the gateway's clock is the one pruning uses.
  if (kind === 'response') return { id, expiresAt: now + RESPONSE_TTL_MS }
  if (kind === 'batch') return { id }
  if (kind === 'container') return { id, expiresAt: now + CONTAINER_TTL_MS }
  return { id, expiresAt: secondsToMs(body.expires_at) }
}

/** The container a code interpreter call ran in (an output item). */
function ranIn(item: unknown, now: number): CreatedObject[] {
  const id = str(record(item)?.container_id)
  return id ? [{ id, expiresAt: now + CONTAINER_TTL_MS }] : []
}

const ITEM_EVENTS = new Set(['response.output_item.added', 'response.output_item.done'])

export const openAiObjects: ObjectFormat = {
  createdObject: described,

  relatedObjects(kind, json, now) {
    const body = record(json)
    const out: { kind: ObjectKind; object: CreatedObject }[] = []
    if (!body) return out
    // A batch's results and errors are files OpenAI writes; an upload, once completed, is a file.
    if (kind === 'batch') {
      for (const f of [body.output_file_id, body.error_file_id]) {
        const id = str(f)
        if (id) out.push({ kind: 'file', object: { id } })
      }
    }
    if (kind === 'upload') {
      const file = described('file', body.file, now)
      if (file) out.push({ kind: 'file', object: file })
    }
    return out
  },

  streamedObject(kind, event, data, now) {
    // Responses API: the first event, `response.created`, carries the whole response object.
    if (kind !== 'response' || (event !== undefined && event !== 'response.created')) return undefined
    if (event === undefined && !data.includes('"response.created"')) return undefined
    try {
      const e = record(JSON.parse(data))
      return e?.type === 'response.created' ? described('response', e.response, now) : undefined
    } catch {
      return undefined
    }
  },

  yielded(kind, json, now) {
    const output = record(json)?.output
    if (kind !== 'container' || !Array.isArray(output)) return []
    return output.flatMap((item) => ranIn(item, now))
  },

  streamYielded(kind, event, data, now) {
    // Only output item events that name a container are parsed.
    if (kind !== 'container' || (event !== undefined && !ITEM_EVENTS.has(event)) || !data.includes('"container_id"')) return []
    try {
      const e = record(JSON.parse(data))
      return typeof e?.type === 'string' && ITEM_EVENTS.has(e.type) ? ranIn(e.item, now) : []
    } catch {
      return []
    }
  },

  filterList(_kind, json, keep) {
    if (record(json)?.object !== 'list') return undefined
    return filterArray(json, 'data', (item) => str(record(item)?.id), keep)
  },

  emptyList() {
    return { object: 'list', data: [], has_more: false }
  },

  references(json) {
    const out: { kind: ObjectKind; id: string }[] = []
    const add = (kind: ObjectKind, v: unknown) => {
      const id = str(v)
      if (id) out.push({ kind, id })
    }
    add('response', json.previous_response_id)
    add('conversation', typeof json.conversation === 'object' ? record(json.conversation)?.id : json.conversation)
    // A batch's requests, a vector store's or a container's files.
    add('file', json.input_file_id)
    add('file', json.file_id)
    for (const id of strings(json.file_ids)) add('file', id)
    // File parts in a chat or a response's input.
    for (const id of stringsUnder([json.input, json.messages], FILE_ID)) add('file', id)
    for (const t of Array.isArray(json.tools) ? json.tools : []) {
      const tool = record(t)
      for (const id of strings(tool?.vector_store_ids)) add('vector_store', id)
      const container = tool?.container
      if (typeof container === 'string') add('container', container)
      else for (const id of strings(record(container)?.file_ids)) add('file', id)
    }
    return out
  },

  notFoundMessage(kind, id) {
    if (kind === 'response') return `Response with id '${id}' not found.`
    return `No such ${NAMES[kind] ?? 'object'} object: ${id}`
  },
}
