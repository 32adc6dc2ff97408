/** The Gemini API's OpenAI compatibility: `v1beta/openai/chat/completions` and `…/embeddings`, the key as Bearer. */
import type { CompatEndpoint } from '../types'
import { joinUrl } from '../shared/json-body'
import { GEMINI_BASE_URL } from './upstream'

export const geminiCompat: CompatEndpoint = {
  operations: ['chat', 'embeddings'],
  // `models/gemini-2.5-flash` is the same model; the native route records the bare id.
  model: (name) => ({ body: name, model: name.replace(/^models\//, '') }),
  request(op, provider) {
    return {
      url: joinUrl(provider.base_url ?? GEMINI_BASE_URL, op === 'chat' ? 'v1beta/openai/chat/completions' : 'v1beta/openai/embeddings'),
      headers: { ...provider.headers, authorization: `Bearer ${provider.api_key ?? ''}` },
    }
  },
  nativePath: (name) => `v1beta/models/${name.replace(/^models\//, '')}:generateContent`,
}
