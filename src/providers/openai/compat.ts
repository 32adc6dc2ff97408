/** OpenAI is the format itself: the front door reaches its chat/completions and embeddings as they are. */
import type { CompatEndpoint } from '../types'
import { joinUrl } from '../shared/json-body'
import { OPENAI_BASE_URL } from './upstream'

export const openAiCompat: CompatEndpoint = {
  operations: ['chat', 'embeddings'],
  model: (name) => ({ body: name, model: name }),
  request(op, provider) {
    return {
      url: joinUrl(provider.base_url ?? OPENAI_BASE_URL, op === 'chat' ? 'chat/completions' : 'embeddings'),
      headers: { authorization: `Bearer ${provider.api_key}`, ...provider.headers },
    }
  },
  nativePath: () => 'chat/completions',
}
