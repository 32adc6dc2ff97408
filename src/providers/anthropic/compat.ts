/**
 * Anthropic's OpenAI SDK compatibility endpoint, `v1/chat/completions`, which takes the key as
 * `Authorization: Bearer` as the OpenAI SDK sends it. Anthropic calls it a layer for testing and
 * comparing models, not for production (platform.claude.com/docs/en/api/openai-sdk).
 */
import type { CompatEndpoint } from '../types'
import { joinUrl } from '../shared/json-body'
import { ANTHROPIC_BASE_URL } from './upstream'

export const anthropicCompat: CompatEndpoint = {
  operations: ['chat'],
  model: (name) => ({ body: name, model: name }),
  request(_op, provider) {
    return {
      url: joinUrl(provider.base_url ?? ANTHROPIC_BASE_URL, 'v1/chat/completions'),
      headers: { ...provider.headers, authorization: `Bearer ${provider.api_key}` },
    }
  },
  nativePath: () => 'v1/messages',
}
