/** OpenAI's telemetry: Chat Completions, Responses and embeddings (src/providers/shared/openai-telemetry.ts), with its table's request fields. */
import { openAiTelemetry as openAiFormat } from '../shared/openai-telemetry'
import { OPENAI_ENDPOINTS } from './endpoints'

export const openAiTelemetry = openAiFormat(OPENAI_ENDPOINTS)
