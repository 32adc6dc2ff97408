/**
 * Anthropic Messages on Vertex: `v1/messages` goes to `publishers/anthropic/models/{model}:rawPredict`
 * (`:streamRawPredict` for a stream) and `v1/messages/count_tokens` to `count-tokens:rawPredict`.
 * The one documented body change: `anthropic_version: "vertex-2023-10-16"` is added (unless the client
 * set one) and, for messages, `model` leaves the body for the path. Both are spliced into the raw
 * bytes; the rest of the body reaches Vertex exactly as the client sent it. Routing groups reuse
 * `prepareAnthropicOnVertex` to fail over from Anthropic to Vertex.
 */
import type { ProviderConfig } from '../../config/schema'
import { InvalidRequestError } from '../../errors'
import type { InboundRequest, UpstreamRequest } from '../types'
import { joinUrl, requireJson, stringField } from '../shared/json-body'
import { MODEL_ID } from '../shared/google-request'
import { vertexAuthorization } from './auth'
import { vertexBaseUrl, vertexProject, vertexRegion } from './endpoint'
import { objectLayout } from './json-members'

export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16'

/** Inbound paths in Anthropic's own format (`?beta=true` and the like are dropped on the way). */
export function isAnthropicPath(path: string): boolean {
  return /^v1\/messages(?:\/count_tokens)?\/?$/.test(path)
}

export async function prepareAnthropicOnVertex(req: InboundRequest, provider: ProviderConfig): Promise<UpstreamRequest> {
  const json = requireJson(req)
  const countTokens = /count_tokens\/?$/.test(req.path)
  const asked = stringField(json, 'model')
  if (!asked) throw new InvalidRequestError('model: Field required', 'missing_model')
  // Anthropic's names are not Vertex's (`claude-sonnet-4-5@20250929`); model_aliases maps them, e.g. for failover.
  const model = provider.model_aliases?.[asked] ?? asked
  if (!MODEL_ID.test(model)) throw new InvalidRequestError(`model: "${model}" is not a valid model id.`, 'invalid_model')
  const stream = !countTokens && json.stream === true
  const target = countTokens ? 'count-tokens:rawPredict' : `${model}:${stream ? 'streamRawPredict' : 'rawPredict'}`
  const path = `v1/projects/${vertexProject(provider)}/locations/${vertexRegion(provider)}/publishers/anthropic/models/${target}`
  return {
    url: joinUrl(vertexBaseUrl(provider), path),
    method: 'POST',
    headers: { ...provider.headers, authorization: await vertexAuthorization(provider) },
    body: vertexAnthropicBody(req.body ?? new Uint8Array(), json, countTokens ? model : null),
    model,
    stream,
    flavor: 'anthropic',
    operation: countTokens ? 'count_tokens' : 'chat',
  }
}

/**
 * The body as Vertex wants it. `model` null drops the model member (messages); a string makes it that
 * model (count_tokens after an alias). Everything else stays byte for byte.
 */
export function vertexAnthropicBody(body: Uint8Array, json: Record<string, unknown>, model: string | null): Uint8Array | string {
  const addVersion = json.anthropic_version === undefined
  const changeModel = model === null ? 'model' in json : json.model !== model
  if (!addVersion && !changeModel) return body
  const layout = objectLayout(body)
  const list = layout?.members ?? []
  const i = list.findIndex((m) => m.key === 'model')
  if (!layout || list.filter((m) => m.key === 'model').length > 1) {
    // Duplicate keys, or bytes the scanner cannot follow: re-serialise rather than send it wrong.
    const { model: _m, ...rest } = json
    return JSON.stringify({ ...(addVersion ? { anthropic_version: VERTEX_ANTHROPIC_VERSION } : {}), ...rest, ...(model === null ? {} : { model }) })
  }
  // Byte ranges to keep, with replacement text between them.
  const parts: (Uint8Array | string)[] = [body.subarray(0, layout.open)]
  let remaining = list.length
  if (changeModel && model === null) remaining--
  if (addVersion) parts.push(`"anthropic_version":${JSON.stringify(VERTEX_ANTHROPIC_VERSION)}${remaining > 0 ? ',' : ''}`)
  if (changeModel && i >= 0) {
    const m = list[i]!
    // Dropped: the member with one neighbouring comma, the one after it or else the one before it.
    const [from, to] =
      model !== null ? [m.valueStart, m.end] : i + 1 < list.length ? [m.start, list[i + 1]!.start] : i > 0 ? [list[i - 1]!.end, m.end] : [m.start, m.end]
    parts.push(body.subarray(layout.open, from))
    if (model !== null) parts.push(JSON.stringify(model))
    parts.push(body.subarray(to))
  } else {
    parts.push(body.subarray(layout.open))
  }
  return concat(parts)
}

const encoder = new TextEncoder()

function concat(parts: (Uint8Array | string)[]): Uint8Array {
  const bytes = parts.map((p) => (typeof p === 'string' ? encoder.encode(p) : p))
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0))
  let at = 0
  for (const b of bytes) {
    out.set(b, at)
    at += b.length
  }
  return out
}
