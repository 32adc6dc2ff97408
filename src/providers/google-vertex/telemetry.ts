/** Vertex's telemetry: Gemini's format, or Anthropic's for Claude on Vertex (flavor `anthropic`). */
import { anthropicTelemetryWith } from '../anthropic/telemetry'
import { googleTelemetry } from '../shared/google-telemetry'
import type { TelemetryFormat } from '../types'
import { VERTEX_ANTHROPIC_ENDPOINTS, VERTEX_ENDPOINTS } from './endpoints'

const GEMINI = googleTelemetry(VERTEX_ENDPOINTS)
const CLAUDE = anthropicTelemetryWith(VERTEX_ANTHROPIC_ENDPOINTS)

export function vertexTelemetry(flavor: string): TelemetryFormat {
  return flavor === 'anthropic' ? CLAUDE : GEMINI
}
