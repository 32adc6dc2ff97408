/**
 * Gemini API upstream: base URL + the client's versioned path (`v1beta/models/M:generateContent`,
 * `v1beta/models`, …), the provider's key in `x-goog-api-key`, never in the URL.
 */
import { NotFoundError } from '../../errors'
import type { ProviderConfig } from '../../config/schema'
import type { InboundRequest, UpstreamRequest } from '../types'
import { joinUrl } from '../shared/json-body'
import { MODEL_ID, decodePath, googleMethod, withoutKeyParam } from '../shared/google-request'

export const GEMINI_BASE_URL = 'https://generativelanguage.googleapis.com'

const VERSIONED = /^v1(?:alpha|beta)?(?:\/|$)/
/** `v1beta/models/{model}` with an optional `:{method}`; tuned models too. */
const MODEL_PATH = /^v1(?:alpha|beta)?\/(?:models|tunedModels)\/([^/:]+)(?::([A-Za-z]+))?$/

export function prepareGemini(req: InboundRequest, provider: ProviderConfig): UpstreamRequest {
  const path = decodePath(req.path)
  if (!path) throw new NotFoundError('No Gemini API endpoint given; try /gemini/v1beta/models/{model}:generateContent.', 'unknown_url')
  if (path.startsWith('upload/')) {
    // The resumable upload protocol hands the client a Google URL to continue on, past the gateway.
    throw new NotFoundError('File uploads are not proxied by this gateway; upload files to Google directly.', 'unsupported_endpoint')
  }
  if (!VERSIONED.test(path)) throw new NotFoundError(`Unknown Gemini API path "${path}"; paths start with a version, e.g. v1beta/models/{model}:generateContent.`, 'unknown_url')
  const m = MODEL_PATH.exec(path)
  const model = m && MODEL_ID.test(m[1]!) ? m[1] : undefined
  const method = m?.[2] ? googleMethod(m[2]) : undefined
  return {
    url: joinUrl(provider.base_url ?? GEMINI_BASE_URL, req.path, withoutKeyParam(req.search)),
    method: req.method,
    headers: { ...provider.headers, 'x-goog-api-key': provider.api_key ?? '' },
    body: req.body,
    model,
    stream: method?.stream ?? false,
    flavor: 'default',
    operation: method?.operation ?? (m?.[2] ?? (model ? 'models' : 'other')),
  }
}
