/** The Gemini API's telemetry: Gemini's format, or OpenAI chat on its OpenAI-compatible endpoint (flavor `openai`). */
import { googleTelemetry } from '../shared/google-telemetry'
import { openAiTelemetry } from '../shared/openai-telemetry'
import type { TelemetryFormat } from '../types'
import { GEMINI_ENDPOINTS } from './endpoints'

const GEMINI = googleTelemetry(GEMINI_ENDPOINTS)
const OPENAI = openAiTelemetry(GEMINI_ENDPOINTS)

export function geminiTelemetry(flavor: string): TelemetryFormat {
  return flavor === 'openai' ? OPENAI(flavor) : GEMINI
}
