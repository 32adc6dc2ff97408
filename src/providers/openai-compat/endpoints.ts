/**
 * The front door's endpoint table: OpenAI's chat/completions and embeddings at the gateway's
 * `/v1/` (GET /v1/models is answered by the gateway itself, src/proxy/frontdoor-models.ts).
 */
import { classifyWith, type EndpointTable } from '../shared/endpoints'
import { openAiTable } from '../shared/openai-endpoints'
import type { Classification, CompatOperation, InboundRequest } from '../types'

const OPENAI = openAiTable('')

export const FRONT_DOOR_ENDPOINTS: EndpointTable = {
  ...OPENAI,
  rows: OPENAI.rows.filter((r) => r.method === 'POST' && (r.path === 'chat/completions' || r.path === 'embeddings')),
}

/** The operation a front-door path names, or undefined. */
export function frontDoorOperation(method: string, path: string): CompatOperation | undefined {
  if (method !== 'POST') return undefined
  const p = path.replace(/^\/+|\/+$/g, '')
  return p === 'chat/completions' ? 'chat' : p === 'embeddings' ? 'embeddings' : undefined
}

/** Classifies with the OpenAI table; the model is the provider's own name the front door resolved. */
export function classifyFrontDoor(req: InboundRequest, model: string): Classification | undefined {
  return classifyWith(FRONT_DOOR_ENDPOINTS, req, () => model)
}

/** Client headers the OpenAI SDK sends that compat endpoints may read. */
export const FRONT_DOOR_FORWARD_HEADERS = ['idempotency-key', 'x-stainless-*'] as const
