/**
 * The Gemini API's provider-side objects, named by resource name: `files/abc` (an upload
 * answers `{ file: {...} }`, kept 48 h, `expirationTime`), `cachedContents/abc` (`expireTime`,
 * which a PATCH moves) and `batches/abc` (a long-running operation). Lists answer
 * `{ files | cachedContents | batches | operations: [...], nextPageToken }`.
 */
import type { CreatedObject, ObjectFormat, ObjectKind } from '../types'
import { DAY_MS, filterArray, instantToMs, record, str } from '../shared/object-json'

const COLLECTION: Partial<Record<ObjectKind, string>> = { file: 'files', cached_content: 'cachedContents', batch: 'batches' }

const FILE_TTL_MS = 2 * DAY_MS

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
  if (kind === 'file') return { id, expiresAt: instantToMs(body.expirationTime) ?? now + FILE_TTL_MS }
  if (kind === 'cached_content') return { id, expiresAt: instantToMs(body.expireTime) }
  return { id }
}

export const geminiObjects: ObjectFormat = {
  createdObject: described,
  canonicalId,

  filterList(kind, json, keep) {
    const collection = COLLECTION[kind]
    if (!collection) return undefined
    const idOf = (item: unknown) => {
      const name = str(record(item)?.name)
      return name ? canonicalId(kind, name) : undefined
    }
    const body = record(json)
    // Batches list as long-running operations; an empty list may omit its field altogether.
    const field = kind === 'batch' && Array.isArray(body?.operations) ? 'operations' : collection
    if (body && !(field in body)) return body
    return filterArray(json, field, idOf, keep)
  },

  notFoundMessage() {
    return 'Requested entity was not found.'
  },
}
