/**
 * Usage in Google's generateContent responses (Gemini API and Vertex): `usageMetadata`, with the
 * model in `modelVersion`. A stream repeats usageMetadata on its chunks, each a running total, so
 * the last one seen is the answer; it is parsed once, at the end, not on every chunk.
 */
import type { ReportedUsage, StreamUsageReader } from '../types'
import { tryParse } from './openai-stream-usage'
import { usageFrom } from './usage'

const PROVIDER = 'google'

/** A JSON body, or the JSON array a stream becomes without `alt=sse`. */
export function googleJsonUsage(body: unknown): ReportedUsage | undefined {
  if (Array.isArray(body)) return lastWithUsage(body)
  const b = body as { usageMetadata?: unknown } | undefined
  return b?.usageMetadata ? usageFrom(PROVIDER, body, 'default', b.usageMetadata) : undefined
}

function lastWithUsage(chunks: unknown[]): ReportedUsage | undefined {
  let model: unknown
  for (const c of chunks) if (c && typeof c === 'object' && 'modelVersion' in c) model = (c as { modelVersion: unknown }).modelVersion
  for (let i = chunks.length - 1; i >= 0; i--) {
    const c = chunks[i] as { usageMetadata?: unknown; modelVersion?: unknown } | undefined
    if (c?.usageMetadata) return usageFrom(PROVIDER, { ...c, modelVersion: c.modelVersion ?? model }, 'default', c.usageMetadata)
  }
  return undefined
}

export function googleStreamUsage(): StreamUsageReader {
  let lastUsage: string | undefined
  let lastModel: string | undefined
  return {
    event(_name, data) {
      // Cheap substring checks: the chunks are kept as text and only the last is parsed.
      if (data.includes('"usageMetadata"')) lastUsage = data
      if (data.includes('"modelVersion"')) lastModel = data
    },
    result(): ReportedUsage | undefined {
      if (!lastUsage) return undefined
      const chunk = tryParse(lastUsage)
      if (!chunk?.usageMetadata) return undefined
      if (chunk.modelVersion === undefined && lastModel) chunk.modelVersion = tryParse(lastModel)?.modelVersion
      return usageFrom(PROVIDER, chunk, 'default', chunk.usageMetadata)
    },
  }
}
