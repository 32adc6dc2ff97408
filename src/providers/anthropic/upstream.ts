/** Anthropic upstream: base URL + `v1/…`, `x-api-key` credential, a default `anthropic-version`. */
import { NotFoundError } from '../../errors'
import type { ProviderConfig } from '../../config/schema'
import type { InboundRequest, UpstreamRequest } from '../types'
import { joinUrl, stringField } from '../shared/json-body'

export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com'
export const ANTHROPIC_VERSION = '2023-06-01'

export function prepareAnthropic(req: InboundRequest, provider: ProviderConfig): UpstreamRequest {
  if (!req.path) throw new NotFoundError('No Anthropic endpoint given; try /anthropic/v1/messages.')
  const json = req.json
  const headers: Record<string, string> = { 'x-api-key': provider.api_key ?? '', ...provider.headers }
  if (!req.headers.has('anthropic-version')) headers['anthropic-version'] = ANTHROPIC_VERSION
  const countTokens = req.path.includes('count_tokens')
  return {
    url: joinUrl(provider.base_url ?? ANTHROPIC_BASE_URL, req.path, req.search),
    method: req.method,
    headers,
    body: req.body,
    model: stringField(json, 'model'),
    stream: json?.stream === true,
    flavor: 'default',
    operation: countTokens ? 'count_tokens' : 'chat',
  }
}
