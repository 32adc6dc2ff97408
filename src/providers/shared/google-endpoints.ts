/** Endpoint rows of Google's generateContent format, shared by the Gemini API and Vertex (Gemini models). */
import type { EndpointRow, EndpointTable } from './endpoints'

export function googleModelRows(prefix: string): EndpointRow[] {
  const r = (path: string, rest: Omit<EndpointRow, 'method' | 'path'>): EndpointRow => ({ method: 'POST', path: prefix + path, model: 'path', ...rest })
  return [
    r('{model}:generateContent', { operation: 'chat', class: 'metered' }),
    r('{model}:streamGenerateContent', { operation: 'chat', class: 'metered', stream: 'always' }),
    r('{model}:countTokens', { operation: 'count_tokens', class: 'free' }),
    r('{model}:computeTokens', { operation: 'count_tokens', class: 'free' }),
    r('{model}:embedContent', { operation: 'embeddings', class: 'metered' }),
    r('{model}:batchEmbedContents', { operation: 'embeddings', class: 'metered' }),
    r('{model}:predict', { operation: 'predict', class: 'metered' }),
  ]
}

/**
 * File data, cached contents and server-side tools: the body does not carry what they read.
 * Every Gemini tool but functionDeclarations runs upstream (search, URL context, file search,
 * retrieval, code execution) and its results are billed as input (toolUsePromptTokenCount).
 */
function contextByReference(json: Record<string, unknown>): boolean {
  if (json.cachedContent != null || json.cached_content != null) return true
  if (Array.isArray(json.tools) && json.tools.some(serverTool)) return true
  return /"(?:fileData|file_data)"\s*:/.test(JSON.stringify([json.contents ?? null, json.systemInstruction ?? json.system_instruction ?? null]))
}

/** A tool the upstream runs: anything but function declarations (or, on the OpenAI-compatible rows, a `type: "function"` tool). */
function serverTool(t: unknown): boolean {
  if (!t || typeof t !== 'object') return false
  if ((t as { type?: unknown }).type === 'function') return false
  return Object.keys(t).some((k) => k !== 'functionDeclarations' && k !== 'function_declarations')
}

export const GOOGLE_TABLE_FIELDS: Omit<EndpointTable, 'rows'> = {
  maxTokens: ['generationConfig.maxOutputTokens', 'generation_config.max_output_tokens'],
  choices: ['generationConfig.candidateCount', 'generation_config.candidate_count'],
  contextByReference,
  params: {
    temperature: ['generationConfig.temperature', 'generation_config.temperature'],
    topP: ['generationConfig.topP', 'generation_config.top_p'],
    topK: ['generationConfig.topK', 'generation_config.top_k'],
    frequencyPenalty: ['generationConfig.frequencyPenalty', 'generation_config.frequency_penalty'],
    presencePenalty: ['generationConfig.presencePenalty', 'generation_config.presence_penalty'],
    seed: ['generationConfig.seed', 'generation_config.seed'],
    stopSequences: ['generationConfig.stopSequences', 'generation_config.stop_sequences'],
  },
}
