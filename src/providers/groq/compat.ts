/** Groq speaks the OpenAI format natively, at `openai/v1/chat/completions` (it serves no embeddings). */
import type { CompatEndpoint } from '../types'
import { joinUrl } from '../shared/json-body'
import { GROQ_BASE_URL } from './upstream'

export const groqCompat: CompatEndpoint = {
  operations: ['chat'],
  model: (name) => ({ body: name, model: name }),
  request(_op, provider) {
    return {
      url: joinUrl(provider.base_url ?? GROQ_BASE_URL, 'openai/v1/chat/completions'),
      headers: { authorization: `Bearer ${provider.api_key}`, ...provider.headers },
    }
  },
  nativePath: () => 'openai/v1/chat/completions',
}
