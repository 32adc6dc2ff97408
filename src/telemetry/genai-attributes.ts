/**
 * GenAI semantic-convention attributes read from what the gateway already has: the parsed
 * request body and the parsed JSON response (parsed once, for usage). Bodies are never
 * re-serialised. Streams: genai-stream.ts.
 */
import type { AttributeValue } from '@opentelemetry/api'
import type { TokenUsage } from '../providers/types'
import { outputContent, type Message } from './genai-content'

export type Attributes = Record<string, AttributeValue>
export type Json = Record<string, unknown>

/** `gen_ai.provider.name` for each config `api`. */
export const PROVIDER_NAMES: Record<string, string> = {
  openai: 'openai',
  anthropic: 'anthropic',
  groq: 'groq',
  gemini: 'gcp.gemini',
  'google-vertex': 'gcp.vertex_ai',
  bedrock: 'aws.bedrock',
}

export function providerName(api: string | undefined): string | undefined {
  return api ? (PROVIDER_NAMES[api] ?? api) : undefined
}

/** Request parameters, looked up at the top level, in Gemini's generationConfig and Bedrock's inferenceConfig. */
const PARAMS: [attr: string, keys: string[], kind: 'number' | 'int' | 'strings'][] = [
  ['gen_ai.request.temperature', ['temperature'], 'number'],
  ['gen_ai.request.top_p', ['top_p', 'topP'], 'number'],
  ['gen_ai.request.top_k', ['top_k', 'topK'], 'number'],
  ['gen_ai.request.frequency_penalty', ['frequency_penalty', 'frequencyPenalty'], 'number'],
  ['gen_ai.request.presence_penalty', ['presence_penalty', 'presencePenalty'], 'number'],
  ['gen_ai.request.seed', ['seed'], 'int'],
  ['gen_ai.request.choice.count', ['n', 'candidateCount'], 'int'],
  ['gen_ai.request.stop_sequences', ['stop', 'stop_sequences', 'stopSequences'], 'strings'],
  ['gen_ai.request.encoding_formats', ['encoding_format'], 'strings'],
]

/**
 * @param bound the request's output-token bound per choice, from its format's endpoint table (one
 *   list of fields per format, one precedence: the one spend reserves by)
 */
export function requestAttributes(json: Json | undefined, bound?: { maxOutputTokens?: number; choices?: number }): Attributes {
  const out: Attributes = {}
  if (bound?.maxOutputTokens !== undefined) out['gen_ai.request.max_tokens'] = Math.round(bound.maxOutputTokens / (bound.choices ?? 1))
  if (!json) return out
  const sources = [json, json.generationConfig, json.inferenceConfig].filter((s): s is Json => !!s && typeof s === 'object')
  for (const [attr, keys, kind] of PARAMS) {
    for (const src of sources) {
      const v = firstDefined(src, keys)
      if (v === undefined) continue
      if (kind === 'strings') {
        const list = typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []
        if (list.length) out[attr] = list
      } else if (typeof v === 'number' && Number.isFinite(v) && (kind === 'number' || Number.isInteger(v))) {
        // The conventions record a choice count only when it is not 1.
        if (attr !== 'gen_ai.request.choice.count' || v !== 1) out[attr] = v
      }
      break
    }
  }
  return out
}

function firstDefined(src: Json, keys: string[]): unknown {
  for (const k of keys) if (src[k] !== undefined && src[k] !== null) return src[k]
  return undefined
}

/** Usage in genai-prices' vocabulary → `gen_ai.usage.*` (input includes cached input, as both define it). */
export function usageAttributes(tokens: TokenUsage | undefined): Attributes {
  const out: Attributes = {}
  if (!tokens) return out
  const put = (attr: string, v: number | undefined) => {
    if (typeof v === 'number' && Number.isFinite(v)) out[attr] = v
  }
  put('gen_ai.usage.input_tokens', tokens.input_tokens)
  put('gen_ai.usage.output_tokens', tokens.output_tokens)
  put('gen_ai.usage.cache_read.input_tokens', tokens.cache_read_tokens)
  put('gen_ai.usage.cache_creation.input_tokens', tokens.cache_write_tokens)
  return out
}

/** What the response said about itself. */
export interface ResponseInfo {
  id?: string
  model?: string
  finishReasons?: string[]
  /** Only when content capture is on. */
  output?: Message[]
}

export function responseAttributes(info: ResponseInfo): Attributes {
  const out: Attributes = {}
  if (info.id) out['gen_ai.response.id'] = info.id
  if (info.model) out['gen_ai.response.model'] = info.model
  const reasons = info.finishReasons?.filter((r) => !!r)
  if (reasons?.length) out['gen_ai.response.finish_reasons'] = reasons
  return out
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined)
export const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v)

/** Reads id, model and finish reasons from a complete JSON response of any supported provider. */
export function responseFromJson(body: unknown, info: ResponseInfo = {}, capture = false): ResponseInfo {
  if (!isObj(body)) return info
  info.id ??= str(body.id) ?? str(body.responseId)
  info.model ??= str(body.model) ?? str(body.modelVersion)
  let reasons: unknown[] = []
  if (Array.isArray(body.choices)) reasons = body.choices.map((c) => (isObj(c) ? c.finish_reason : undefined))
  else if (Array.isArray(body.candidates)) reasons = body.candidates.map((c) => (isObj(c) ? c.finishReason : undefined))
  else if (body.stop_reason !== undefined) reasons = [body.stop_reason]
  else if (body.stopReason !== undefined) reasons = [body.stopReason]
  else if (body.object === 'response' || (Array.isArray(body.output) && typeof body.status === 'string')) {
    // Responses API: `incomplete` carries its reason (max_output_tokens, content_filter).
    const incomplete = isObj(body.incomplete_details) ? str(body.incomplete_details.reason) : undefined
    reasons = [incomplete ?? body.status]
  }
  const list = reasons.filter((r): r is string => typeof r === 'string' && r.length > 0)
  if (list.length) info.finishReasons = list
  if (capture) info.output = outputContent(body) ?? info.output
  return info
}
