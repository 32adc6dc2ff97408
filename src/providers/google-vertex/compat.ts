/**
 * Vertex AI's OpenAI-compatible Chat Completions:
 * `v1/projects/{project}/locations/{region}/endpoints/openapi/chat/completions`, with the
 * service account's OAuth token. Models are named `publisher/model` (`google/gemini-2.5-flash`);
 * a bare Gemini name gets the `google/` publisher. Claude on Vertex is served only natively
 * (rawPredict, `/google-vertex/v1/messages`).
 */
import type { CompatEndpoint } from '../types'
import { joinUrl } from '../shared/json-body'
import { vertexAuthorization } from './auth'
import { vertexBaseUrl, vertexProject, vertexRegion } from './endpoint'

const CLAUDE = /^(?:anthropic\/)?claude/

export const vertexCompat: CompatEndpoint = {
  operations: ['chat'],
  model(name) {
    if (CLAUDE.test(name)) return undefined
    if (name.includes('/')) return { body: name, model: name.startsWith('google/') ? name.slice(7) : name }
    return { body: `google/${name}`, model: name }
  },
  async request(_op, provider) {
    const path = `v1/projects/${vertexProject(provider)}/locations/${vertexRegion(provider)}/endpoints/openapi/chat/completions`
    return { url: joinUrl(vertexBaseUrl(provider), path), headers: { ...provider.headers, authorization: await vertexAuthorization(provider) } }
  },
  nativePath: (name) => (CLAUDE.test(name) ? 'v1/messages' : `v1/publishers/google/models/${name.replace(/^google\//, '')}:generateContent`),
}
