/**
 * Vertex AI upstream. Model calls arrive as pydantic-ai and @google/genai send them, `v1` or
 * `v1beta1`, with or without `projects/P/locations/L/`, and always leave for the provider's own
 * project and region: `{version}/projects/{project}/locations/{region}/publishers/{publisher}/models/{model}:{method}`;
 * so do cached contents and batch prediction jobs (`…/locations/{region}/cachedContents/{id}`).
 * Anthropic-format requests (`v1/messages`) go through anthropic.ts.
 */
import type { ProviderConfig } from '../../config/schema'
import { NotFoundError } from '../../errors'
import type { InboundRequest, UpstreamRequest } from '../types'
import { joinUrl, stringField } from '../shared/json-body'
import { MODEL_ID, decodePath, googleMethod, withoutKeyParam, type GoogleMethod } from '../shared/google-request'
import { isAnthropicPath, prepareAnthropicOnVertex } from './anthropic'
import { vertexAuthorization } from './auth'
import { vertexBaseUrl, vertexProject, vertexRegion } from './endpoint'

const MODEL_CALL = /^(v1|v1beta1)\/(?:projects\/[^/]+\/locations\/[^/]+\/)?publishers\/(google|anthropic)\/models\/([^/:]+):([A-Za-z]+)$/
/** Cached contents and batch prediction jobs, with or without the client's `projects/P/locations/L/`. */
const OBJECT_CALL = /^(v1|v1beta1)\/(?:projects\/[^/]+\/locations\/[^/]+\/)?((?:cachedContents|batchPredictionJobs)(?:\/[^/:]+(?::cancel)?)?)$/
/** models.get / models.list for publisher models, which Vertex serves without a project. */
const MODEL_INFO = /^(v1|v1beta1)\/publishers\/(google|anthropic)\/models(?:\/[^/:]+)?$/

const ANTHROPIC_METHODS: Record<string, GoogleMethod> = {
  rawPredict: { stream: false, operation: 'chat' },
  streamRawPredict: { stream: true, operation: 'chat' },
}

const HINT = 'try /google-vertex/v1beta1/publishers/google/models/{model}:generateContent or /google-vertex/v1/messages'

export async function prepareVertex(req: InboundRequest, provider: ProviderConfig): Promise<UpstreamRequest> {
  const path = decodePath(req.path)
  if (!path) throw new NotFoundError(`No Vertex AI endpoint given; ${HINT}.`, 'unknown_url')
  if (isAnthropicPath(path)) return prepareAnthropicOnVertex(req, provider)

  const call = MODEL_CALL.exec(path)
  if (call) {
    const [, version, publisher, model, name] = call as unknown as [string, string, string, string, string]
    const method = publisher === 'google' ? googleMethod(name) : Object.hasOwn(ANTHROPIC_METHODS, name) ? ANTHROPIC_METHODS[name] : undefined
    if (!method || !MODEL_ID.test(model)) throw new NotFoundError(`Unsupported Vertex AI call "${publisher}/models/${model}:${name}"; ${HINT}.`, 'unknown_url')
    const countTokens = publisher === 'anthropic' && model === 'count-tokens'
    const upstreamPath = `${version}/projects/${vertexProject(provider)}/locations/${vertexRegion(provider)}/publishers/${publisher}/models/${model}:${name}`
    return {
      url: joinUrl(vertexBaseUrl(provider), upstreamPath, withoutKeyParam(req.search)),
      method: req.method,
      headers: { ...provider.headers, authorization: await vertexAuthorization(provider) },
      body: req.body,
      model: countTokens ? stringField(req.json, 'model') : model,
      stream: method.stream,
      flavor: publisher === 'anthropic' ? 'anthropic' : 'default',
      operation: countTokens ? 'count_tokens' : method.operation,
    }
  }

  // Objects live in the provider's own project and region, like its model calls (the endpoint table classified them).
  const object = OBJECT_CALL.exec(path)
  if (object) {
    const [, version, rest] = object as unknown as [string, string, string]
    const batch = rest.startsWith('batchPredictionJobs')
    return {
      url: joinUrl(vertexBaseUrl(provider), `${version}/projects/${vertexProject(provider)}/locations/${vertexRegion(provider)}/${rest}`, withoutKeyParam(req.search)),
      method: req.method,
      headers: { ...provider.headers, authorization: await vertexAuthorization(provider) },
      body: req.body,
      model: undefined,
      stream: false,
      flavor: 'default',
      operation: batch ? 'batches' : 'cached_contents',
    }
  }

  if ((req.method === 'GET' || req.method === 'HEAD') && MODEL_INFO.test(path)) {
    const model = /\/models\/([^/:]+)$/.exec(path)?.[1]
    return {
      url: joinUrl(vertexBaseUrl(provider), req.path, withoutKeyParam(req.search)),
      method: req.method,
      headers: { ...provider.headers, authorization: await vertexAuthorization(provider) },
      body: null,
      model,
      stream: false,
      flavor: 'default',
      operation: 'models',
    }
  }
  throw new NotFoundError(`Unknown Vertex AI path "${path}"; ${HINT}.`, 'unknown_url')
}
