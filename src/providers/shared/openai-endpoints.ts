/**
 * The OpenAI wire format's endpoints (OpenAI itself, and Groq under `openai/v1/`): each row is
 * a method and a path pattern, with its operation, class and where the model is.
 */
import type { EndpointRow, EndpointTable, ParamFields } from './endpoints'

const obj = (kind: NonNullable<EndpointRow['object']>['kind'], action: 'read' | 'write' | 'delete') => ({ kind, action })

export function openAiRows(prefix: string): EndpointRow[] {
  const r = (method: string, path: string, rest: Omit<EndpointRow, 'method' | 'path'>): EndpointRow => ({ method, path: prefix + path, ...rest })
  const objects = (base: string, kind: NonNullable<EndpointRow['object']>['kind'], operation: string, extra: EndpointRow[] = []): EndpointRow[] => [
    r('GET', base, { operation, class: 'object', lists: kind }),
    r('GET', `${base}/{id}`, { operation, class: 'object', object: obj(kind, 'read') }),
    r('POST', `${base}/{id}`, { operation, class: 'object', object: obj(kind, 'write') }),
    r('DELETE', `${base}/{id}`, { operation, class: 'object', object: obj(kind, 'delete') }),
    ...extra,
  ]
  return [
    r('POST', 'chat/completions', { operation: 'chat', class: 'metered', model: 'body', stream: 'body' }),
    r('POST', 'completions', { operation: 'text_completion', class: 'metered', model: 'body', stream: 'body' }),
    // A code interpreter with `container: { type: "auto" }` makes a container the answer names.
    r('POST', 'responses', { operation: 'responses', class: 'metered', model: 'body', stream: 'body', creates: 'response', yields: 'container' }),
    r('POST', 'responses/compact', { operation: 'responses', class: 'metered', model: 'body' }),
    r('POST', 'responses/input_tokens', { operation: 'count_tokens', class: 'free', model: 'body' }),
    r('GET', 'responses/{id}', { operation: 'responses', class: 'object', object: obj('response', 'read') }),
    r('DELETE', 'responses/{id}', { operation: 'responses', class: 'object', object: obj('response', 'delete') }),
    r('GET', 'responses/{id}/input_items', { operation: 'responses', class: 'object', object: obj('response', 'read') }),
    r('POST', 'responses/{id}/cancel', { operation: 'responses', class: 'object', object: obj('response', 'write') }),
    r('POST', 'embeddings', { operation: 'embeddings', class: 'metered', model: 'body' }),
    r('POST', 'moderations', { operation: 'moderations', class: 'free', model: 'body' }),
    r('POST', 'audio/transcriptions', { operation: 'audio', class: 'metered', model: 'form' }),
    r('POST', 'audio/translations', { operation: 'audio', class: 'metered', model: 'form' }),
    r('POST', 'audio/speech', { operation: 'audio', class: 'metered', model: 'body' }),
    r('POST', 'images/generations', { operation: 'images', class: 'metered', model: 'body' }),
    r('POST', 'images/edits', { operation: 'images', class: 'metered', model: 'form' }),
    r('POST', 'images/variations', { operation: 'images', class: 'metered', model: 'form' }),
    r('GET', 'models', { operation: 'models', class: 'free' }),
    r('GET', 'models/{model...}', { operation: 'models', class: 'free' }),
    r('POST', 'files', { operation: 'files', class: 'object', creates: 'file' }),
    ...objects('files', 'file', 'files', [r('GET', 'files/{id}/content', { operation: 'files', class: 'object', object: obj('file', 'read') })]),
    r('POST', 'uploads', { operation: 'uploads', class: 'object', creates: 'upload' }),
    r('POST', 'uploads/{id}/parts', { operation: 'uploads', class: 'object', object: obj('upload', 'write') }),
    r('POST', 'uploads/{id}/complete', { operation: 'uploads', class: 'object', object: obj('upload', 'write'), creates: 'file' }),
    r('POST', 'uploads/{id}/cancel', { operation: 'uploads', class: 'object', object: obj('upload', 'write') }),
    // A batch's requests are not in its body (they are in a file): only keys without limits may create one.
    r('POST', 'batches', { operation: 'batches', class: 'object', creates: 'batch' }),
    r('GET', 'batches', { operation: 'batches', class: 'object', lists: 'batch' }),
    r('GET', 'batches/{id}', { operation: 'batches', class: 'object', object: obj('batch', 'read') }),
    r('POST', 'batches/{id}/cancel', { operation: 'batches', class: 'object', object: obj('batch', 'write') }),
    r('POST', 'vector_stores', { operation: 'vector_stores', class: 'object', creates: 'vector_store' }),
    ...objects('vector_stores', 'vector_store', 'vector_stores', [
      r('GET', 'vector_stores/{id}/{rest...}', { operation: 'vector_stores', class: 'object', object: obj('vector_store', 'read') }),
      r('POST', 'vector_stores/{id}/{rest...}', { operation: 'vector_stores', class: 'object', object: obj('vector_store', 'write') }),
      r('DELETE', 'vector_stores/{id}/{rest...}', { operation: 'vector_stores', class: 'object', object: obj('vector_store', 'delete') }),
    ]),
    r('POST', 'conversations', { operation: 'conversations', class: 'object', creates: 'conversation' }),
    ...objects('conversations', 'conversation', 'conversations', [
      r('GET', 'conversations/{id}/{rest...}', { operation: 'conversations', class: 'object', object: obj('conversation', 'read') }),
      r('POST', 'conversations/{id}/{rest...}', { operation: 'conversations', class: 'object', object: obj('conversation', 'write') }),
      r('DELETE', 'conversations/{id}/{rest...}', { operation: 'conversations', class: 'object', object: obj('conversation', 'delete') }),
    ]),
    r('POST', 'containers', { operation: 'containers', class: 'object', creates: 'container' }),
    ...objects('containers', 'container', 'containers', [
      r('GET', 'containers/{id}/{rest...}', { operation: 'containers', class: 'object', object: obj('container', 'read') }),
      r('POST', 'containers/{id}/{rest...}', { operation: 'containers', class: 'object', object: obj('container', 'write') }),
      r('DELETE', 'containers/{id}/{rest...}', { operation: 'containers', class: 'object', object: obj('container', 'delete') }),
    ]),
  ]
}

/** Tools the upstream runs itself, whose results (stored files, search results, containers) become input the body does not carry. */
const SERVER_TOOLS = /^(?:file_search|code_interpreter|mcp|web_search|browser_search|image_generation)/

/** Fields that make the upstream read stored context the body does not carry. */
function contextByReference(json: Record<string, unknown>): boolean {
  if (json.previous_response_id != null || json.conversation != null || json.prompt != null) return true
  if (Array.isArray(json.tools) && json.tools.some((t) => t && typeof t === 'object' && SERVER_TOOLS.test(String((t as { type?: unknown }).type ?? '')))) return true
  // Stored items and files named in the input (input_file, file parts, item_reference), or a file the upstream fetches by URL.
  return namesStoredInput(json.input, 0) || namesStoredInput(json.messages, 0)
}

/** Deeper than this, a body is taken to name stored input (fail closed: its references are checked). */
const MAX_DEPTH = 64

/** Whether any object in `v` has a `file_id` or `file_url` field, or is an `item_reference` (a walk, not a re-serialisation). */
function namesStoredInput(v: unknown, depth: number): boolean {
  if (v === null || typeof v !== 'object') return false
  if (depth > MAX_DEPTH) return true
  if (Array.isArray(v)) {
    for (const e of v) if (namesStoredInput(e, depth + 1)) return true
    return false
  }
  const o = v as Record<string, unknown>
  if (o.file_id !== undefined || o.file_url !== undefined || o.type === 'item_reference') return true
  for (const k in o) if (namesStoredInput(o[k], depth + 1)) return true
  return false
}

/** The request parameters telemetry records, where OpenAI-format bodies keep them. */
export const OPENAI_PARAMS: ParamFields = {
  temperature: ['temperature'],
  topP: ['top_p'],
  frequencyPenalty: ['frequency_penalty'],
  presencePenalty: ['presence_penalty'],
  seed: ['seed'],
  stopSequences: ['stop'],
  encodingFormats: ['encoding_format'],
}

export function openAiTable(prefix: string): EndpointTable {
  return {
    rows: openAiRows(prefix),
    // One precedence: the newest bound first (max_tokens is deprecated for chat in its favour).
    maxTokens: ['max_completion_tokens', 'max_output_tokens', 'max_tokens'],
    choices: ['n'],
    contextByReference,
    params: OPENAI_PARAMS,
  }
}
