/**
 * GenAI semantic-convention attributes from what the gateway already has, in its own terms: the
 * request's parameters and what its answer said about itself, as the format read them from the
 * parsed bodies and stream events (ProviderApi.telemetry), and the usage read for pricing.
 */
import type { AttributeValue } from '@opentelemetry/api'
import { providerApi } from '../providers/registry'
import type { RequestParams, ResponseInfo, TokenUsage } from '../providers/types'

export type Attributes = Record<string, AttributeValue>
export type { ResponseInfo }

/** `gen_ai.provider.name` for a config `api`, as its format names itself. */
export function providerName(api: string | undefined): string | undefined {
  return api ? (providerApi(api)?.genAiProvider ?? api) : undefined
}

/**
 * The request's parameters, as its format read them (ProviderApi.telemetry), and its output-token
 * bound per choice, from its format's endpoint table (one list of fields per format, one
 * precedence: the one spend reserves by).
 */
export function requestAttributes(params: RequestParams | undefined, bound?: { maxOutputTokens?: number; choices?: number }): Attributes {
  const out: Attributes = {}
  if (bound?.maxOutputTokens !== undefined) out['gen_ai.request.max_tokens'] = Math.round(bound.maxOutputTokens / (bound.choices ?? 1))
  if (!params) return out
  const put = (attr: string, v: AttributeValue | undefined) => {
    if (v !== undefined) out[attr] = v
  }
  put('gen_ai.request.temperature', params.temperature)
  put('gen_ai.request.top_p', params.topP)
  put('gen_ai.request.top_k', params.topK)
  put('gen_ai.request.frequency_penalty', params.frequencyPenalty)
  put('gen_ai.request.presence_penalty', params.presencePenalty)
  put('gen_ai.request.seed', params.seed)
  put('gen_ai.request.choice.count', params.choiceCount)
  put('gen_ai.request.stop_sequences', params.stopSequences)
  put('gen_ai.request.encoding_formats', params.encodingFormats)
  return out
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

export function responseAttributes(info: ResponseInfo): Attributes {
  const out: Attributes = {}
  if (info.id) out['gen_ai.response.id'] = info.id
  if (info.model) out['gen_ai.response.model'] = info.model
  const reasons = info.finishReasons?.filter((r) => !!r)
  if (reasons?.length) out['gen_ai.response.finish_reasons'] = reasons
  return out
}
