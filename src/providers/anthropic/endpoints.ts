/** Anthropic's endpoint table (the Messages format; Vertex and Bedrock reuse its v1/messages rows). */
import { InvalidRequestError } from '../../errors'
import { boundedModel, classifyWith, type EndpointTable } from '../shared/endpoints'
import type { Classification, InboundRequest } from '../types'

const o = (kind: 'file' | 'message_batch', action: 'read' | 'write' | 'delete') => ({ kind, action })

/** Server tools: the upstream runs them and bills their results (search hits, fetched pages, container files) as input. */
const SERVER_TOOLS = /^(?:web_search|web_fetch|code_execution|mcp_toolset)/

/** Context the body names but does not carry: files by id or URL, containers, MCP servers, server tools. */
function contextByReference(json: Record<string, unknown>): boolean {
  if (json.container != null || json.mcp_servers != null) return true
  if (Array.isArray(json.tools) && json.tools.some((t) => t && typeof t === 'object' && SERVER_TOOLS.test(String((t as { type?: unknown }).type ?? '')))) return true
  return readsStored(json.messages, 0) || readsStored(json.system, 0)
}

/** A block whose source is a stored file, a document fetched by URL (an image by URL is bounded), or a container upload. */
function readsStored(v: unknown, depth: number): boolean {
  if (!v || typeof v !== 'object' || depth > 8) return false
  if (Array.isArray(v)) return v.some((x) => readsStored(x, depth + 1))
  const b = v as { type?: unknown; source?: { type?: unknown } }
  if (b.type === 'container_upload' || b.source?.type === 'file' || (b.type === 'document' && b.source?.type === 'url')) return true
  return Object.values(b).some((x) => typeof x === 'object' && readsStored(x, depth + 1))
}

export const ANTHROPIC_ENDPOINTS: EndpointTable = {
  rows: [
    // A message with the code-execution tool makes a container its answer names (reused later by id).
    { method: 'POST', path: 'v1/messages', operation: 'chat', class: 'metered', model: 'body', stream: 'body', yields: 'container' },
    { method: 'POST', path: 'v1/messages/count_tokens', operation: 'count_tokens', class: 'free', model: 'body' },
    { method: 'GET', path: 'v1/models', operation: 'models', class: 'free' },
    { method: 'GET', path: 'v1/models/{model}', operation: 'models', class: 'free' },
    { method: 'POST', path: 'v1/messages/batches', operation: 'batches', class: 'metered', creates: 'message_batch' },
    { method: 'GET', path: 'v1/messages/batches', operation: 'batches', class: 'object', lists: 'message_batch' },
    { method: 'GET', path: 'v1/messages/batches/{id}', operation: 'batches', class: 'object', object: o('message_batch', 'read') },
    { method: 'GET', path: 'v1/messages/batches/{id}/results', operation: 'batches', class: 'object', object: o('message_batch', 'read') },
    { method: 'POST', path: 'v1/messages/batches/{id}/cancel', operation: 'batches', class: 'object', object: o('message_batch', 'write') },
    { method: 'DELETE', path: 'v1/messages/batches/{id}', operation: 'batches', class: 'object', object: o('message_batch', 'delete') },
    { method: 'POST', path: 'v1/files', operation: 'files', class: 'object', creates: 'file' },
    { method: 'GET', path: 'v1/files', operation: 'files', class: 'object', lists: 'file' },
    { method: 'GET', path: 'v1/files/{id}', operation: 'files', class: 'object', object: o('file', 'read') },
    { method: 'GET', path: 'v1/files/{id}/content', operation: 'files', class: 'object', object: o('file', 'read') },
    { method: 'DELETE', path: 'v1/files/{id}', operation: 'files', class: 'object', object: o('file', 'delete') },
  ],
  maxTokens: ['max_tokens'],
  contextByReference,
  params: { temperature: ['temperature'], topP: ['top_p'], topK: ['top_k'], stopSequences: ['stop_sequences'] },
}

export const ANTHROPIC_FORWARD_HEADERS = ['anthropic-version', 'anthropic-beta', 'idempotency-key', 'x-stainless-*'] as const

/**
 * An inline message batch's requests, each checked like a message: the batch's "model" is each
 * request's model (the core checks every one against the allow-list), and its output bound is the sum.
 */
export function batchRequests(json: Record<string, unknown> | undefined): { models: string[]; maxOutputTokens: number | undefined } {
  const list = json?.requests
  if (!Array.isArray(list) || list.length === 0) throw new InvalidRequestError('requests: a message batch needs at least one request.', 'invalid_batch')
  const models: string[] = []
  let max: number | undefined = 0
  for (const r of list) {
    const params = (r as { params?: Record<string, unknown> })?.params
    const model = boundedModel(typeof params?.model === 'string' ? params.model : undefined)
    if (!model) throw new InvalidRequestError('requests[].params.model: every request in a batch names its model.', 'missing_model')
    models.push(model)
    const n = params?.max_tokens
    max = typeof n === 'number' && n >= 0 && max !== undefined ? max + Math.ceil(n) : undefined
  }
  return { models, maxOutputTokens: max }
}

export function classifyAnthropic(req: InboundRequest): Classification | undefined {
  const c = classifyWith(ANTHROPIC_ENDPOINTS, req)
  if (c?.operation === 'batches' && c.creates === 'message_batch') {
    const b = batchRequests(req.json)
    c.models = b.models
    c.model = b.models[0]
    c.maxOutputTokens = b.maxOutputTokens
    c.batch = true
  }
  return c
}
