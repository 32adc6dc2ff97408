/** Groq's endpoint table: the OpenAI format under `openai/v1/`. */
import { classifyWith } from '../shared/endpoints'
import { multipartModel } from '../shared/multipart'
import { openAiTable } from '../shared/openai-endpoints'
import type { Classification, InboundRequest } from '../types'

export const GROQ_ENDPOINTS = openAiTable('openai/v1/')

export const GROQ_FORWARD_HEADERS = ['openai-beta', 'idempotency-key', 'x-stainless-*'] as const

export function classifyGroq(req: InboundRequest): Classification | undefined {
  return classifyWith(GROQ_ENDPOINTS, req, (m) => (m.row.model === 'form' ? multipartModel(req) : undefined))
}
