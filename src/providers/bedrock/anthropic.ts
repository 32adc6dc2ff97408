/**
 * The Anthropic Messages API on Bedrock: `POST /bedrock/v1/messages` goes to
 * `model/{id}/invoke` (`invoke-with-response-stream` when `stream: true`).
 *
 * The one documented body change: Bedrock takes the model in the path and the streaming
 * choice from the operation, so `model` and `stream` leave the body; it requires
 * `anthropic_version: "bedrock-2023-05-31"` (added unless the client set one), and takes beta
 * flags in the body, so an `anthropic-beta` header becomes `anthropic_beta` (as Anthropic's
 * own Bedrock SDK does). Streams are converted back to Anthropic SSE (./anthropic-sse.ts).
 *
 * Exported for routing groups that fail over from Anthropic to Bedrock with the same body.
 */
import { InvalidRequestError, NotFoundError } from '../../errors'
import type { ProviderConfig } from '../../config/schema'
import type { InboundRequest, UpstreamRequest } from '../types'
import { requireJson, stringField } from '../shared/json-body'
import { anthropicSseConversion } from './anthropic-sse'
import { modelUrl, resolveModel } from './model-path'
import { withCredential } from './sigv4'
import { bedrockRequestHeaders } from './upstream-headers'

export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31'

/** Paths of the Anthropic-format route under /bedrock (errors there render in Anthropic's shape). */
export function isAnthropicPath(path: string): boolean {
  return path === 'v1' || path.startsWith('v1/')
}

export async function prepareAnthropicOnBedrock(req: InboundRequest, provider: ProviderConfig): Promise<UpstreamRequest> {
  const path = req.path.replace(/\/+$/, '')
  if (path !== 'v1/messages' && path !== 'v1/messages/count_tokens') {
    throw new NotFoundError(`Bedrock serves the Anthropic format at /bedrock/v1/messages and /bedrock/v1/messages/count_tokens only, not /bedrock/${req.path}.`)
  }
  if (req.method !== 'POST') throw new NotFoundError(`${req.method} is not supported on /bedrock/${path}; use POST.`)
  const json = requireJson(req)
  const requested = stringField(json, 'model')
  if (!requested) throw new InvalidRequestError('model: a model name is required.', 'missing_model')
  const modelId = resolveModel(provider, requested)
  const body = invokeBody(req, json)
  if (path === 'v1/messages/count_tokens') return countTokens(req, provider, modelId, body)
  const stream = json.stream === true
  return {
    ...(await signedPost(req, provider, modelId, stream ? 'invoke-with-response-stream' : 'invoke', JSON.stringify(body))),
    model: modelId,
    stream,
    flavor: 'anthropic',
    operation: 'chat',
    convertStream: stream ? anthropicSseConversion : undefined,
  }
}

/** A JSON POST to one of the model's operations, with the provider's credential (SigV4 signs the final body). */
async function signedPost(req: InboundRequest, provider: ProviderConfig, modelId: string, operation: string, text: string) {
  const url = modelUrl(provider, modelId, operation)
  const headers = bedrockRequestHeaders(req.headers, provider, 'application/json')
  return { url, method: 'POST', headers: await withCredential(provider, 'POST', url, headers, text), body: text }
}

/** The client's Anthropic body as an InvokeModel body: `model` and `stream` out, the Bedrock version and beta flags in. */
function invokeBody(req: InboundRequest, json: Record<string, unknown>): Record<string, unknown> {
  const { model: _model, stream: _stream, ...rest } = json
  const body: Record<string, unknown> = { anthropic_version: BEDROCK_ANTHROPIC_VERSION, ...rest }
  const beta = req.headers.get('anthropic-beta')
  if (beta && body.anthropic_beta === undefined) {
    body.anthropic_beta = beta
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean)
  }
  return body
}

/**
 * Anthropic's count_tokens as Bedrock's CountTokens (`model/{id}/count-tokens`): the InvokeModel
 * body goes base64-encoded in `input.invokeModel.body`, with `max_tokens: 1` when the client sent
 * none (count_tokens has no such field; InvokeModel requires one, and it does not change the
 * input count). Bedrock's `{"inputTokens": n}` comes back as Anthropic's `{"input_tokens": n}`.
 */
async function countTokens(req: InboundRequest, provider: ProviderConfig, modelId: string, body: Record<string, unknown>): Promise<UpstreamRequest> {
  const invoke = body.max_tokens === undefined ? { ...body, max_tokens: 1 } : body
  const text = JSON.stringify({ input: { invokeModel: { body: Buffer.from(JSON.stringify(invoke)).toString('base64') } } })
  return {
    ...(await signedPost(req, provider, modelId, 'count-tokens', text)),
    model: modelId,
    stream: false,
    flavor: 'anthropic',
    operation: 'count_tokens',
    convertJson: (bytes) => {
      try {
        const n = (JSON.parse(new TextDecoder().decode(bytes)) as { inputTokens?: unknown }).inputTokens
        if (typeof n === 'number') return new TextEncoder().encode(JSON.stringify({ input_tokens: n }))
      } catch {
        // Not the answer CountTokens documents: the client gets it as sent.
      }
      return bytes
    },
  }
}
