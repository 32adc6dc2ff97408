/** OpenAI's endpoint table (clients may send a leading `v1/`; the base URL already has it). */
import { classifyWith } from '../shared/endpoints'
import { openAiTable } from '../shared/openai-endpoints'
import { multipartModel } from '../shared/multipart'
import type { Classification, InboundRequest } from '../types'

export const OPENAI_ENDPOINTS = openAiTable('')

/** Client headers OpenAI's SDKs send that its API reads. */
export const OPENAI_FORWARD_HEADERS = ['openai-beta', 'idempotency-key', 'x-stainless-*'] as const

export function classifyOpenAi(req: InboundRequest): Classification | undefined {
  const path = req.path.replace(/^\/*v1(?=\/|$)/, '')
  return classifyWith(OPENAI_ENDPOINTS, { ...req, path }, (m) => (m.row.model === 'form' ? multipartModel(req) : undefined))
}
