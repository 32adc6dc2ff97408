/** Bedrock Runtime's endpoint table: the native model operations, and Anthropic's format at v1/messages. */
import { ANTHROPIC_ENDPOINTS } from '../anthropic/endpoints'
import { classifyWith, normalizePath, type EndpointTable } from '../shared/endpoints'
import type { Classification, InboundRequest } from '../types'

const ASYNC_REFUSAL = {
  status: 403,
  message:
    'Bedrock asynchronous invocations (StartAsyncInvoke, GetAsyncInvoke, ListAsyncInvokes) are not forwarded by this gateway: their output goes to S3 and their cost cannot be checked against limits, and their invocations would be shared by every project. Use converse or invoke.',
}

export const BEDROCK_ENDPOINTS: EndpointTable = {
  rows: [
    { method: 'POST', path: 'model/{model}/converse', operation: 'chat', class: 'metered', model: 'path' },
    { method: 'POST', path: 'model/{model}/converse-stream', operation: 'chat', class: 'metered', model: 'path', stream: 'always' },
    { method: 'POST', path: 'model/{model}/invoke', operation: 'chat', class: 'metered', model: 'path', yields: 'container' },
    { method: 'POST', path: 'model/{model}/invoke-with-response-stream', operation: 'chat', class: 'metered', model: 'path', stream: 'always' },
    { method: 'POST', path: 'model/{model}/count-tokens', operation: 'count_tokens', class: 'free', model: 'path' },
    // StartAsyncInvoke and its reads: the request runs detached, writes its output to S3 and is billed per output (seconds of video) the gateway never sees.
    { method: 'POST', path: 'async-invoke', operation: 'async_invoke', class: 'refused', refusal: ASYNC_REFUSAL },
    { method: 'GET', path: 'async-invoke', operation: 'async_invoke', class: 'refused', refusal: ASYNC_REFUSAL },
    { method: 'GET', path: 'async-invoke/{id}', operation: 'async_invoke', class: 'refused', refusal: ASYNC_REFUSAL },
  ],
  // Converse's bound, then the InvokeModel bodies of the families Bedrock hosts (Anthropic, Titan, Llama, Mistral).
  maxTokens: ['inferenceConfig.maxTokens', 'max_tokens', 'textGenerationConfig.maxTokenCount', 'max_gen_len', 'max_tokens_to_sample'],
  contextByReference,
  // Likewise: Converse's inferenceConfig, then the InvokeModel bodies' own fields.
  params: {
    temperature: ['inferenceConfig.temperature', 'temperature', 'textGenerationConfig.temperature'],
    topP: ['inferenceConfig.topP', 'top_p', 'textGenerationConfig.topP'],
    topK: ['top_k'],
    stopSequences: ['inferenceConfig.stopSequences', 'stop_sequences', 'stop', 'textGenerationConfig.stopSequences'],
  },
}

/** Media and documents Bedrock reads from S3, prompt-management templates and containers: the body names them, the upstream reads them. */
function contextByReference(json: Record<string, unknown>): boolean {
  // An Anthropic body's code-execution container (InvokeModel takes Anthropic's Messages body).
  if (json.promptVariables != null || json.container != null) return true
  return /"s3Location"\s*:/.test(JSON.stringify([json.messages ?? null, json.system ?? null]))
}

const ANTHROPIC_ON_BEDROCK: EndpointTable = { ...ANTHROPIC_ENDPOINTS, rows: ANTHROPIC_ENDPOINTS.rows.filter((r) => r.path === 'v1/messages' || r.path === 'v1/messages/count_tokens') }

export const BEDROCK_FORWARD_HEADERS = ['anthropic-version', 'anthropic-beta', 'x-stainless-*'] as const

export function classifyBedrock(req: InboundRequest): Classification | undefined {
  const path = normalizePath(req.path)
  if (path === 'v1' || path.startsWith('v1/')) return classifyWith(ANTHROPIC_ON_BEDROCK, req)
  return classifyWith(BEDROCK_ENDPOINTS, req, (m) => {
    if (m.row.model !== 'path') return undefined
    try {
      return decodeURIComponent(m.params.model!)
    } catch {
      return m.params.model
    }
  })
}
