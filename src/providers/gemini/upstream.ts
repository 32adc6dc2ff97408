/**
 * Gemini API upstream: base URL + the client's versioned path (`v1beta/models/M:generateContent`,
 * `v1beta/models`, …), the provider's key in `x-goog-api-key`, never in the URL. Resumable
 * uploads (`upload/v1beta/files`, `…:uploadToFileSearchStore`) pass through too.
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
    if (!VERSIONED.test(path.slice(7))) throw new NotFoundError(`Unknown Gemini upload path "${path}"; uploads go to upload/v1beta/files and the like.`, 'unknown_url')
    return prepareUpload(req, provider)
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
    // The OpenAI-compatible endpoint streams OpenAI chat chunks (./stream-events.ts).
    flavor: OPENAI_COMPATIBLE.test(path) ? 'openai' : 'default',
    operation: method?.operation ?? (m?.[2] ?? (model ? 'models' : 'other')),
  }
}

const OPENAI_COMPATIBLE = /^[^/]+\/openai\//

/** Headers of Google's resumable upload protocol that carry a URL for the client to go on at. */
const UPLOAD_URL_HEADERS = ['x-goog-upload-url', 'x-goog-upload-control-url']

/**
 * A resumable upload (Files API, file search stores). Its start answers with
 * `x-goog-upload-url`, the URL the client sends the bytes to; pointed at Google, the client
 * would go past the gateway with the gateway key. The URL is rewritten to this provider's own
 * route on the gateway (its id is a route name), so the bytes come back here and the session
 * stays with the provider that opened it, even behind a routing group. A URL on another host
 * than the provider's base URL is dropped rather than handed out: the client fails, and no key
 * leaves. Uploads bill nothing; bodies are bounded by `server.max_body_bytes`.
 */
function prepareUpload(req: InboundRequest, provider: ProviderConfig): UpstreamRequest {
  const base = (provider.base_url ?? GEMINI_BASE_URL).replace(/\/+$/, '')
  const ours = `${req.gatewayBase}/${encodeURIComponent(provider.id)}`
  return {
    url: joinUrl(base, req.path, withoutKeyParam(req.search)),
    method: req.method,
    headers: { ...provider.headers, 'x-goog-api-key': provider.api_key ?? '' },
    body: req.body,
    model: undefined,
    stream: false,
    flavor: 'default',
    operation: 'upload',
    rewriteHeaders(headers) {
      for (const name of UPLOAD_URL_HEADERS) {
        const url = headers.get(name)
        if (url === null) continue
        if (url.startsWith(`${base}/`)) headers.set(name, ours + url.slice(base.length))
        else headers.delete(name)
      }
    },
  }
}
