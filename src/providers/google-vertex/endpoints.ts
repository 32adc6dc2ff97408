/** Vertex AI's endpoint table: Gemini models (with or without `projects/P/locations/L/`), Claude by rawPredict, and Anthropic's format at v1/messages. */
import { ANTHROPIC_ENDPOINTS } from '../anthropic/endpoints'
import { classifyWith, normalizePath, type EndpointRow, type EndpointTable } from '../shared/endpoints'
import { GOOGLE_TABLE_FIELDS, googleModelRows } from '../shared/google-endpoints'
import type { Classification, InboundRequest } from '../types'

const LOCATED = '{version}/projects/{project}/locations/{location}/'

function anthropicPublisher(prefix: string): EndpointRow[] {
  return [
    { method: 'POST', path: `${prefix}publishers/anthropic/models/count-tokens:rawPredict`, operation: 'count_tokens', class: 'free', model: 'body' },
    { method: 'POST', path: `${prefix}publishers/anthropic/models/{model}:rawPredict`, operation: 'chat', class: 'metered', model: 'path', yields: 'container' },
    { method: 'POST', path: `${prefix}publishers/anthropic/models/{model}:streamRawPredict`, operation: 'chat', class: 'metered', model: 'path', stream: 'always', yields: 'container' },
  ]
}

type VertexKind = 'cached_content' | 'batch'
const o = (kind: VertexKind, action: 'read' | 'write' | 'delete') => ({ kind, action })
const obj = (method: string, path: string, operation: string, rest: Partial<EndpointRow>): EndpointRow => ({ method, path, operation, class: 'object', ...rest })

/**
 * Cached contents and batch prediction jobs: objects of the project that made them. A batch job
 * reads its requests from Cloud Storage or BigQuery, which the gateway does not read, so only
 * keys without limits or a model allow-list may create one (as every batch).
 */
function objectRows(prefix: string): EndpointRow[] {
  const collection = (name: string, kind: VertexKind, operation: string, extra: EndpointRow[]): EndpointRow[] => [
    obj('POST', `${prefix}${name}`, operation, { model: 'body', creates: kind }),
    obj('GET', `${prefix}${name}`, operation, { lists: kind }),
    obj('GET', `${prefix}${name}/{id}`, operation, { object: o(kind, 'read') }),
    obj('DELETE', `${prefix}${name}/{id}`, operation, { object: o(kind, 'delete') }),
    ...extra,
  ]
  return [
    ...collection('cachedContents', 'cached_content', 'cached_contents', [obj('PATCH', `${prefix}cachedContents/{id}`, 'cached_contents', { object: o('cached_content', 'write') })]),
    ...collection('batchPredictionJobs', 'batch', 'batches', [obj('POST', `${prefix}batchPredictionJobs/{id}:cancel`, 'batches', { object: o('batch', 'write') })]),
  ]
}

/** Claude on Vertex (rawPredict): Anthropic's Messages body, so Anthropic's output bound and context fields. */
export const VERTEX_ANTHROPIC_ENDPOINTS: EndpointTable = { ...ANTHROPIC_ENDPOINTS, rows: [...anthropicPublisher(LOCATED), ...anthropicPublisher('{version}/')] }

export const VERTEX_ENDPOINTS: EndpointTable = {
  rows: [
    ...googleModelRows(`${LOCATED}publishers/google/models/`),
    ...googleModelRows('{version}/publishers/google/models/'),
    { method: 'GET', path: '{version}/publishers/{publisher}/models', operation: 'models', class: 'free' },
    { method: 'GET', path: '{version}/publishers/{publisher}/models/{model}', operation: 'models', class: 'free' },
    ...objectRows(LOCATED),
    ...objectRows('{version}/'),
  ],
  ...GOOGLE_TABLE_FIELDS,
}

/** Anthropic-format requests on Vertex: Anthropic's own message rows. */
const ANTHROPIC_ON_VERTEX: EndpointTable = { ...ANTHROPIC_ENDPOINTS, rows: ANTHROPIC_ENDPOINTS.rows.filter((r) => r.path === 'v1/messages' || r.path === 'v1/messages/count_tokens') }

export const VERTEX_FORWARD_HEADERS = ['x-goog-api-client', 'anthropic-version', 'anthropic-beta', 'x-stainless-*'] as const

export function classifyVertex(req: InboundRequest): Classification | undefined {
  const path = normalizePath(req.path)
  if (path.startsWith('v1/messages')) return classifyWith(ANTHROPIC_ON_VERTEX, req)
  if (!/^v1(?:beta1)?\//.test(path)) return undefined
  return classifyWith(VERTEX_ANTHROPIC_ENDPOINTS, req) ?? classifyWith(VERTEX_ENDPOINTS, req, (m) => (m.row.model === 'body' ? bodyModel(req.json?.model) : undefined))
}

/**
 * A cached content's or a batch job's model as Vertex names it
 * (`projects/p/locations/l/publishers/google/models/gemini-2.0-flash`): the model id, for
 * allow-lists and the log, as on the model rows.
 */
function bodyModel(model: unknown): string | undefined {
  if (typeof model !== 'string') return undefined
  const at = model.lastIndexOf('/models/')
  return at >= 0 ? model.slice(at + '/models/'.length) : model
}
