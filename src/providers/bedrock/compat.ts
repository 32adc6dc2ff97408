/**
 * Bedrock's OpenAI-compatible Chat Completions, on bedrock-runtime (`openai/v1/chat/completions`,
 * the default) or bedrock-mantle (`v1/chat/completions`, `openai_endpoint = "mantle"`), SigV4
 * (service `bedrock`) or a Bedrock API key. They serve OpenAI's open-weight models and other
 * open models, not Claude, Nova, Titan or Llama: those are native only (AWS's API compatibility table).
 */
import type { ProviderConfig } from '../../config/schema'
import type { CompatEndpoint } from '../types'
import { joinUrl } from '../shared/json-body'
import { resolveModel } from './model-path'
import { withCredential } from './sigv4'

/** Model ids (with or without a cross-region prefix) Bedrock serves only through Converse / InvokeModel. */
const NATIVE_ONLY = /(?:^|\.)(?:anthropic|amazon|meta|cohere|ai21|stability|twelvelabs)\./

function compatBase(provider: ProviderConfig): string {
  const region = provider.region ?? 'us-east-1'
  if (provider.openai_endpoint === 'mantle') return joinUrl(provider.base_url ?? `https://bedrock-mantle.${region}.api.aws`, 'v1')
  return joinUrl(provider.base_url ?? `https://bedrock-runtime.${region}.amazonaws.com`, 'openai/v1')
}

export const bedrockCompat: CompatEndpoint = {
  operations: ['chat'],
  model(name, provider) {
    const id = resolveModel(provider, name)
    return NATIVE_ONLY.test(id) ? undefined : { body: id, model: id }
  },
  async request(_op, provider, body) {
    const url = joinUrl(compatBase(provider), 'chat/completions')
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    for (const [name, value] of Object.entries(provider.headers ?? {})) headers[name.toLowerCase()] = value
    return { url, headers: await withCredential(provider, 'POST', url, headers, body) }
  },
  nativePath(name, provider) {
    const id = resolveModel(provider, name)
    return /(?:^|\.)anthropic\./.test(id) ? 'v1/messages' : `model/${encodeURIComponent(id)}/converse`
  },
}
