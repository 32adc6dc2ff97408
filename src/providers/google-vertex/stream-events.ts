/** Vertex streams: Gemini chunks, or Anthropic events for Claude on Vertex (flavor `anthropic`). */
import type { StreamFormat } from '../types'
import { anthropicStreamEvents } from '../anthropic/stream-events'
import { googleStreamFormat } from '../shared/google-stream-events'

export function vertexStreamFormat(flavor: string): StreamFormat {
  return flavor === 'anthropic' ? anthropicStreamEvents : googleStreamFormat
}
