/** Groq upstream: the path as Groq's OpenAI-compatible API has it (`openai/v1/…`). */
import { NotFoundError } from '../../errors'
import type { ProviderConfig } from '../../config/schema'
import type { InboundRequest, UpstreamRequest } from '../types'
import { joinUrl, stringField } from '../shared/json-body'

export const GROQ_BASE_URL = 'https://api.groq.com'

export function prepareGroq(req: InboundRequest, provider: ProviderConfig): UpstreamRequest {
  if (!req.path) throw new NotFoundError('No Groq endpoint given; try /groq/openai/v1/chat/completions.', 'unknown_url')
  const json = req.json
  return {
    url: joinUrl(provider.base_url ?? GROQ_BASE_URL, req.path, req.search),
    method: req.method,
    headers: { authorization: `Bearer ${provider.api_key}`, ...provider.headers },
    body: req.body,
    model: stringField(json, 'model'),
    stream: json?.stream === true,
    flavor: 'default',
    operation: req.path.includes('embeddings') ? 'embeddings' : 'chat',
  }
}
