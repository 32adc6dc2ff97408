/** Bedrock model ids in paths: decoding what the client sent, aliases, and the upstream URL. */
import { InvalidRequestError } from '../../errors'
import type { ProviderConfig } from '../../config/schema'
import { joinUrl } from '../shared/json-body'

export const BEDROCK_BASE_URL_TEMPLATE = 'https://bedrock-runtime.{region}.amazonaws.com'

export function bedrockBaseUrl(provider: ProviderConfig): string {
  return provider.base_url ?? BEDROCK_BASE_URL_TEMPLATE.replace('{region}', provider.region ?? 'us-east-1')
}

/** A model id from one path segment; SDKs encode it (`:` → `%3A`, an ARN's `/` → `%2F`). */
export function decodeModelSegment(segment: string): string {
  let id: string
  try {
    id = decodeURIComponent(segment)
  } catch {
    throw new InvalidRequestError(`The model id "${segment}" is not valid URL encoding.`, 'invalid_model_id')
  }
  if (!id.trim()) throw new InvalidRequestError('The model id is empty.', 'invalid_model_id')
  return id
}

/** The Bedrock model id for a name a client used, through the provider's `model_aliases`. */
export function resolveModel(provider: ProviderConfig, name: string): string {
  return provider.model_aliases?.[name] ?? name
}

/** Percent-encodes a path label the way the AWS SDKs do (encodeURIComponent plus `!'()*`). */
export function encodeModelId(id: string): string {
  return encodeURIComponent(id).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

export function modelUrl(provider: ProviderConfig, modelId: string, operation: string, search = ''): string {
  return joinUrl(bedrockBaseUrl(provider), `model/${encodeModelId(modelId)}/${operation}`, search)
}
