/**
 * Vertex AI's provider-side objects, named by full resource name
 * (`projects/{number}/locations/{region}/cachedContents/{id}`, `…/batchPredictionJobs/{id}`):
 * every request goes to the provider's own project and region (upstream.ts), so the last
 * segment names the object. Cached contents end at `expireTime` (a PATCH moves it); batch
 * prediction jobs are kept until deleted. Lists answer `{ cachedContents | batchPredictionJobs:
 * [...], nextPageToken }`, an empty one `{}`. Claude on Vertex takes Anthropic's Messages body,
 * so its code-execution containers are read as Anthropic's (src/providers/anthropic/objects.ts).
 */
import { anthropicObjects } from '../anthropic/objects'
import { filterArray, instantToMs, record, str } from '../shared/object-json'
import type { CreatedObject, ObjectFormat, ObjectKind } from '../types'

const COLLECTION: Partial<Record<ObjectKind, string>> = {
  cached_content: 'cachedContents',
  batch: 'batchPredictionJobs',
}

/** `projects/p/locations/l/cachedContents/123`, `cachedContents/123` or `123` → `123`. */
function canonicalId(kind: ObjectKind, id: string): string {
  const collection = COLLECTION[kind]
  if (!collection) return id
  const at = id.lastIndexOf(`${collection}/`)
  return at >= 0 && (at === 0 || id[at - 1] === '/') ? id.slice(at + collection.length + 1) : id
}

/** The id a resource name gives, when it names an object of this collection (and nothing below one). */
function idOf(kind: ObjectKind, name: unknown): string | undefined {
  const collection = COLLECTION[kind]
  const n = str(name)
  if (!collection || !n || !new RegExp(`(?:^|/)${collection}/[^/]+$`).test(n)) return undefined
  return canonicalId(kind, n)
}

export const vertexObjects: ObjectFormat = {
  createdObject(kind, json): CreatedObject | undefined {
    const body = record(json)
    const id = idOf(kind, body?.name)
    if (!body || !id) return undefined
    return kind === 'cached_content' ? { id, expiresAt: instantToMs(body.expireTime) } : { id }
  },

  canonicalId,

  yielded: anthropicObjects.yielded,
  streamYielded: anthropicObjects.streamYielded,

  filterList(kind, json, keep) {
    const field = COLLECTION[kind]
    const body = record(json)
    if (!field || !body) return undefined
    // An empty list may omit its field altogether.
    if (!(field in body)) return Object.keys(body).every((k) => k === 'nextPageToken') ? body : undefined
    return filterArray(json, field, (item) => idOf(kind, record(item)?.name), keep)
  },

  emptyList() {
    return {}
  },

  references(json) {
    const out: { kind: ObjectKind; id: string }[] = []
    // generateContent, countTokens and their stream over a cached content (Gemini models).
    const cached = str(json.cachedContent) ?? str(json.cached_content)
    if (cached) out.push({ kind: 'cached_content', id: cached })
    // Claude's code-execution container (rawPredict and v1/messages bodies are Anthropic's).
    for (const r of anthropicObjects.references?.(json) ?? []) if (r.kind === 'container') out.push(r)
    return out
  },

  notFoundMessage(kind, id) {
    return kind === 'container' ? anthropicObjects.notFoundMessage(kind, id) : 'Requested entity was not found.'
  },
}
