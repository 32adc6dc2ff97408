/**
 * Bedrock Runtime's native paths, as the AWS SDKs and pydantic-ai send them:
 * `model/{modelId}/converse`, `converse-stream`, `invoke`, `invoke-with-response-stream` and
 * `count-tokens`. The model id is decoded from its segment, resolved through `model_aliases`,
 * and encoded again for the upstream URL; bodies go upstream unchanged.
 */
import { NotFoundError } from '../../errors'
import type { ProviderConfig } from '../../config/schema'
import type { InboundRequest, UpstreamRequest } from '../types'
import { requireJson } from '../shared/json-body'
import { isAnthropicPath, prepareAnthropicOnBedrock } from './anthropic'
import { decodeModelSegment, modelUrl, resolveModel } from './model-path'
import { withCredential } from './sigv4'
import { bedrockRequestHeaders } from './upstream-headers'

const OPERATIONS: Record<string, { stream: boolean; operation: string; json: boolean }> = {
  converse: { stream: false, operation: 'chat', json: true },
  'converse-stream': { stream: true, operation: 'chat', json: true },
  invoke: { stream: false, operation: 'chat', json: false },
  'invoke-with-response-stream': { stream: true, operation: 'chat', json: false },
  'count-tokens': { stream: false, operation: 'count_tokens', json: true },
}

const NATIVE_PATH = /^model\/([^/]+)\/([a-z-]+)\/?$/

export async function prepareBedrock(req: InboundRequest, provider: ProviderConfig): Promise<UpstreamRequest> {
  if (isAnthropicPath(req.path)) return prepareAnthropicOnBedrock(req, provider)
  const m = NATIVE_PATH.exec(req.path)
  const op = m && Object.hasOwn(OPERATIONS, m[2]!) ? OPERATIONS[m[2]!]! : undefined
  if (!m || !op) {
    throw new NotFoundError(
      `No Bedrock operation at /bedrock/${req.path}. Use /bedrock/model/{modelId}/converse, converse-stream, invoke, invoke-with-response-stream or count-tokens, or /bedrock/v1/messages.`,
    )
  }
  if (req.method !== 'POST') throw new NotFoundError(`${req.method} is not supported on /bedrock/${req.path}; use POST.`)
  if (op.json) requireJson(req)
  const modelId = resolveModel(provider, decodeModelSegment(m[1]!))
  const url = modelUrl(provider, modelId, m[2]!, req.search)
  const headers = bedrockRequestHeaders(req.headers, provider, req.headers.get('content-type') ?? 'application/json')
  return {
    url,
    method: 'POST',
    headers: await withCredential(provider, 'POST', url, headers, req.body),
    body: req.body,
    model: modelId,
    stream: op.stream,
    // Invoke bodies are the model's own; Anthropic ones are read with Anthropic's usage names.
    flavor: m[2]!.startsWith('invoke') && /(^|[.:/])anthropic\./.test(modelId) ? 'anthropic' : 'default',
    operation: op.operation,
  }
}
