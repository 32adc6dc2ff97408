/** The Gemini API's endpoint table (`{version}` is v1, v1beta or v1alpha). */
import { classifyWith, mergeParams, normalizePath, type EndpointRow, type EndpointTable } from '../shared/endpoints'
import { GOOGLE_TABLE_FIELDS, googleModelRows } from '../shared/google-endpoints'
import { OPENAI_PARAMS } from '../shared/openai-endpoints'
import type { Classification, InboundRequest } from '../types'

const free = (method: string, path: string, operation: string): EndpointRow => ({ method, path, operation, class: 'free' })
const o = (kind: 'file' | 'cached_content' | 'batch' | 'file_search_store', action: 'read' | 'write' | 'delete') => ({ kind, action })
const obj = (method: string, path: string, operation: string, rest: Partial<EndpointRow>): EndpointRow => ({ method, path, operation, class: 'object', ...rest })

export const GEMINI_ENDPOINTS: EndpointTable = {
  rows: [
    ...googleModelRows('{version}/models/'),
    ...googleModelRows('{version}/tunedModels/'),
    free('GET', '{version}/models', 'models'),
    free('GET', '{version}/models/{model}', 'models'),
    { method: 'GET', path: '{version}/files', operation: 'files', class: 'object', lists: 'file' },
    { method: 'GET', path: '{version}/files/{id}', operation: 'files', class: 'object', object: o('file', 'read') },
    { method: 'DELETE', path: '{version}/files/{id}', operation: 'files', class: 'object', object: o('file', 'delete') },
    { method: 'POST', path: '{version}/cachedContents', operation: 'cached_contents', class: 'object', model: 'body', creates: 'cached_content' },
    { method: 'GET', path: '{version}/cachedContents', operation: 'cached_contents', class: 'object', lists: 'cached_content' },
    { method: 'GET', path: '{version}/cachedContents/{id}', operation: 'cached_contents', class: 'object', object: o('cached_content', 'read') },
    { method: 'PATCH', path: '{version}/cachedContents/{id}', operation: 'cached_contents', class: 'object', object: o('cached_content', 'write') },
    { method: 'DELETE', path: '{version}/cachedContents/{id}', operation: 'cached_contents', class: 'object', object: o('cached_content', 'delete') },
    // Resumable uploads: the start creates the file; the bytes follow on the same path (opaque bodies).
    { method: 'POST', path: 'upload/{version}/files', operation: 'upload', class: 'object', creates: 'file' },
    { method: 'PUT', path: 'upload/{version}/files', operation: 'upload', class: 'free' },
    obj('POST', 'upload/{version}/fileSearchStores/{id}:uploadToFileSearchStore', 'upload', { object: o('file_search_store', 'write') }),
    free('POST', 'upload/{version}/{rest...}', 'upload'),
    free('PUT', 'upload/{version}/{rest...}', 'upload'),
    // File search stores, their documents and operations: objects of the project that made the store.
    obj('POST', '{version}/fileSearchStores', 'file_search_stores', { creates: 'file_search_store' }),
    obj('GET', '{version}/fileSearchStores', 'file_search_stores', { lists: 'file_search_store' }),
    obj('GET', '{version}/fileSearchStores/{id}', 'file_search_stores', { object: o('file_search_store', 'read') }),
    obj('DELETE', '{version}/fileSearchStores/{id}', 'file_search_stores', { object: o('file_search_store', 'delete') }),
    obj('POST', '{version}/fileSearchStores/{id}:importFile', 'file_search_stores', { object: o('file_search_store', 'write') }),
    obj('GET', '{version}/fileSearchStores/{id}/{rest...}', 'file_search_stores', { object: o('file_search_store', 'read') }),
    obj('POST', '{version}/fileSearchStores/{id}/{rest...}', 'file_search_stores', { object: o('file_search_store', 'write') }),
    obj('DELETE', '{version}/fileSearchStores/{id}/{rest...}', 'file_search_stores', { object: o('file_search_store', 'write') }),
    // Batch jobs (`batches/abc`): requests inline or in a file the gateway does not price.
    obj('POST', '{version}/models/{model}:batchGenerateContent', 'batches', { model: 'path', creates: 'batch' }),
    obj('GET', '{version}/batches', 'batches', { lists: 'batch' }),
    obj('GET', '{version}/batches/{id}', 'batches', { object: o('batch', 'read') }),
    obj('POST', '{version}/batches/{id}:cancel', 'batches', { object: o('batch', 'write') }),
    obj('DELETE', '{version}/batches/{id}', 'batches', { object: o('batch', 'delete') }),
    free('GET', '{version}/operations/{rest...}', 'operations'),
    // Gemini's OpenAI-compatible surface.
    { method: 'POST', path: '{version}/openai/chat/completions', operation: 'chat', class: 'metered', model: 'body', stream: 'body' },
    { method: 'POST', path: '{version}/openai/embeddings', operation: 'embeddings', class: 'metered', model: 'body' },
    free('GET', '{version}/openai/models', 'models'),
  ],
  ...GOOGLE_TABLE_FIELDS,
  // The OpenAI-compatible rows' bounds come after Google's own (a body has one or the other).
  maxTokens: [...GOOGLE_TABLE_FIELDS.maxTokens, 'max_completion_tokens', 'max_tokens'],
  choices: [...GOOGLE_TABLE_FIELDS.choices!, 'n'],
  params: mergeParams(GOOGLE_TABLE_FIELDS.params!, OPENAI_PARAMS),
}

export const GEMINI_FORWARD_HEADERS = ['x-goog-api-client'] as const
/** Google's resumable upload protocol (`x-goog-upload-command`, …). */
export const GEMINI_FORWARD_PREFIXES = ['x-goog-upload-'] as const

const VERSION = /^v1(?:alpha|beta)?$/

export function classifyGemini(req: InboundRequest): Classification | undefined {
  const c = classifyWith(GEMINI_ENDPOINTS, req)
  const version = /^(?:upload\/)?([^/]+)/.exec(normalizePath(req.path))?.[1]
  if (c && !VERSION.test(version ?? '')) return undefined
  return c
}
