/** Groq's telemetry: OpenAI chat (src/providers/shared/openai-telemetry.ts), with its table's request fields. */
import { openAiTelemetry } from '../shared/openai-telemetry'
import { GROQ_ENDPOINTS } from './endpoints'

export const groqTelemetry = openAiTelemetry(GROQ_ENDPOINTS)
