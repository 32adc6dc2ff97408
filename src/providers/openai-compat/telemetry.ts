/** The front door's telemetry: OpenAI chat and embeddings (src/providers/shared/openai-telemetry.ts), whichever provider answers. */
import { openAiTelemetry } from '../shared/openai-telemetry'
import { FRONT_DOOR_ENDPOINTS } from './endpoints'

export const frontDoorTelemetry = openAiTelemetry(FRONT_DOOR_ENDPOINTS)
