/** Vertex AI's endpoint table: Gemini models (with or without `projects/P/locations/L/`), Claude by rawPredict, and Anthropic's format at v1/messages. */
import { ANTHROPIC_ENDPOINTS } from '../anthropic/endpoints'
import { classifyWith, normalizePath, type EndpointRow, type EndpointTable } from '../shared/endpoints'
import { GOOGLE_TABLE_FIELDS, googleModelRows } from '../shared/google-endpoints'
import type { Classification, InboundRequest } from '../types'

const LOCATED = '{version}/projects/{project}/locations/{location}/'

function anthropicPublisher(prefix: string): EndpointRow[] {
  return [
    { method: 'POST', path: `${prefix}publishers/anthropic/models/count-tokens:rawPredict`, operation: 'count_tokens', class: 'free', model: 'body' },
    { method: 'POST', path: `${prefix}publishers/anthropic/models/{model}:rawPredict`, operation: 'chat', class: 'metered', model: 'path' },
    { method: 'POST', path: `${prefix}publishers/anthropic/models/{model}:streamRawPredict`, operation: 'chat', class: 'metered', model: 'path', stream: 'always' },
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
  return classifyWith(VERTEX_ANTHROPIC_ENDPOINTS, req) ?? classifyWith(VERTEX_ENDPOINTS, req)
}
