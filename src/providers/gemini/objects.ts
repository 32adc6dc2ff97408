/**
 * The Gemini API's provider-side objects, named by resource name: `files/abc` (an upload
 * answers `{ file: {...} }`, kept 48 h, `expirationTime`), `cachedContents/abc` (`expireTime`,
 * which a PATCH moves), `batches/abc` (a long-running operation; its results file is named in
 * `metadata.output.responsesFile`) and `fileSearchStores/abc`. Lists answer
 * `{ files | cachedContents | operations | fileSearchStores: [...], nextPageToken }`, and an
 * empty list may be `{}`.
 */
import type { CreatedObject, ObjectFormat, ObjectKind } from '../types'
import { DAY_MS, filterArray, instantToMs, record, str, strings, stringsUnder } from '../shared/object-json'

const COLLECTION: Partial<Record<ObjectKind, string>> = {
  file: 'files',
  cached_content: 'cachedContents',
  batch: 'batches',
  file_search_store: 'fileSearchStores',
}

const FILE_TTL_MS = 2 * DAY_MS

/** Where a body names a file: `fileData.fileUri` (parts), `inputConfig.fileName` (a batch's requests). */
const FILE_FIELDS = new Set(['fileUri', 'file_uri', 'fileName', 'file_name'])
/** `files/abc`, or the file's `uri` as the API answered it (`https://generativelanguage.googleapis.com/v1beta/files/abc`). */
const FILE_URI = /^(?:https:\/\/[a-z0-9.-]*googleapis\.com\/(?:upload\/)?v1(?:alpha|beta)?\/)?files\/([^/?#]+)$/i

/** `files/abc` → `abc`: the path names the object either way. */
function canonicalId(kind: ObjectKind, id: string): string {
  const prefix = `${COLLECTION[kind] ?? ''}/`
  return id.startsWith(prefix) ? id.slice(prefix.length) : id
}

function described(kind: ObjectKind, json: unknown, now: number): CreatedObject | undefined {
  let body = record(json)
  // files.upload (the finalising chunk) answers `{ file: {...} }`; files.get the file itself.
  if (kind === 'file' && record(body?.file)) body = record(body!.file)
  const name = str(body?.name)
  const collection = COLLECTION[kind]
  if (!body || !name || !collection || !name.startsWith(`${collection}/`)) return undefined
  const id = canonicalId(kind, name)
  if (id.includes('/')) return undefined
  if (kind === 'file') return { id, expiresAt: instantToMs(body.expirationTime) ?? now + FILE_TTL_MS }
  if (kind === 'cached_content') return { id, expiresAt: instantToMs(body.expireTime) }
  return { id }
}

export const geminiObjects: ObjectFormat = {
  createdObject: described,
  canonicalId,

  relatedObjects(kind, json, now) {
    if (kind !== 'batch') return []
    // The results file Google writes for a finished batch belongs to the batch's project.
    const file = str(record(record(record(json)?.metadata)?.output)?.responsesFile)
    return file?.startsWith('files/') ? [{ kind: 'file', object: { id: canonicalId('file', file), expiresAt: now + FILE_TTL_MS } }] : []
  },

  filterList(kind, json, keep) {
    const collection = COLLECTION[kind]
    if (!collection) return undefined
    const idOf = (item: unknown) => {
      const name = str(record(item)?.name)
      return name ? canonicalId(kind, name) : undefined
    }
    const body = record(json)
    // Batches list as long-running operations; an empty list may omit its field altogether.
    const field = kind === 'batch' ? 'operations' : collection
    if (body && !(field in body)) return Object.keys(body).every((k) => k === 'nextPageToken') ? body : undefined
    return filterArray(json, field, idOf, keep)
  },

  emptyList() {
    return {}
  },

  references(json) {
    const out: { kind: ObjectKind; id: string }[] = []
    const cached = str(json.cachedContent) ?? str(json.cached_content)
    if (cached) out.push({ kind: 'cached_content', id: cached })
    for (const uri of stringsUnder([json.contents, json.systemInstruction, json.system_instruction, json.batch, json.requests], FILE_FIELDS)) {
      const id = FILE_URI.exec(uri)?.[1]
      if (id) out.push({ kind: 'file', id })
    }
    for (const t of Array.isArray(json.tools) ? json.tools : []) {
      const fs = record(record(t)?.fileSearch ?? record(t)?.file_search)
      for (const name of [...strings(fs?.fileSearchStoreNames), ...strings(fs?.file_search_store_names)]) out.push({ kind: 'file_search_store', id: name })
    }
    return out
  },

  notFoundMessage() {
    return 'Requested entity was not found.'
  },
}
