/** OpenAI upstream: base URL + the client's path, Bearer credential. */
import { NotFoundError } from '../../errors'
import type { ProviderConfig } from '../../config/schema'
import type { InboundRequest, UpstreamRequest } from '../types'
import { joinUrl, stringField } from '../shared/json-body'
import { withStreamUsage } from './stream-options'

export const OPENAI_BASE_URL = 'https://api.openai.com/v1'

export function prepareOpenAi(req: InboundRequest, provider: ProviderConfig): UpstreamRequest {
  const base = provider.base_url ?? OPENAI_BASE_URL
  let path = req.path
  // Clients configured with `.../openai/v1` send `v1/…`; the base already ends in /v1.
  if (path.startsWith('v1/') && /\/v1\/?$/.test(base)) path = path.slice(3)
  if (!path) throw new NotFoundError('No OpenAI endpoint given; try /openai/chat/completions.', 'unknown_url')
  const json = req.json
  const stream = json?.stream === true
  const flavor = path.startsWith('responses') ? 'responses' : path.startsWith('embeddings') ? 'embeddings' : 'chat'
  let body: UpstreamRequest['body'] = req.body
  if (stream && flavor === 'chat' && req.body && json) body = withStreamUsage(req.body, json)
  return {
    url: joinUrl(base, path, req.search),
    method: req.method,
    headers: { authorization: `Bearer ${provider.api_key}`, ...provider.headers },
    body,
    model: stringField(json, 'model'),
    stream,
    flavor,
    operation: flavor === 'embeddings' ? 'embeddings' : 'chat',
  }
}
