/**
 * Message parts in the GenAI conventions' shape (`{ type, … }`), read from any of the content
 * blocks the formats use: OpenAI chat and Responses, Anthropic, Gemini and Bedrock Converse.
 * Read only when a project switches content capture on. Binary parts (images, files, audio)
 * keep their type and modality but never their bytes.
 */
import type { GenAiMessage, GenAiPart } from '../types'

type Json = Record<string, unknown>

export const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

/** `{ finish_reason }` when the answer gave one. */
export function finish(v: unknown): { finish_reason?: string } {
  return typeof v === 'string' ? { finish_reason: v } : {}
}

/** One message with its role (Gemini's "model" is the conventions' "assistant") and parts. */
export function messageOf(m: Json, defaultRole = 'user'): GenAiMessage {
  const role = str(m.role) ?? defaultRole
  const parts = partsOf(m.content ?? m.parts)
  if (Array.isArray(m.tool_calls)) for (const tc of m.tool_calls) if (isObj(tc)) parts.push(part(tc))
  if (role === 'tool' && typeof m.tool_call_id === 'string') {
    return { role, parts: [{ type: 'tool_call_response', id: m.tool_call_id, response: parts.map((p) => p.content ?? '').join('') }] }
  }
  return { role: role === 'model' ? 'assistant' : role, parts }
}

export function messagesOf(list: unknown): GenAiMessage[] | undefined {
  return Array.isArray(list) ? list.filter(isObj).map((m) => messageOf(m)) : undefined
}

export function partsOf(content: unknown): GenAiPart[] {
  if (typeof content === 'string') return [{ type: 'text', content }]
  if (Array.isArray(content)) return content.map((p) => (typeof p === 'string' ? { type: 'text', content: p } : isObj(p) ? part(p) : { type: 'unknown' }))
  if (isObj(content)) return partsOf(content.parts ?? content.content ?? (typeof content.text === 'string' ? content.text : undefined))
  return []
}

/** System instructions as parts, or undefined when there are none. */
export function systemOf(v: unknown): GenAiPart[] | undefined {
  const parts = partsOf(v)
  return parts.length ? parts : undefined
}

/** One content block, whatever the format calls it. */
export function part(p: Json): GenAiPart {
  const type = str(p.type)
  const text = str(p.text)
  if (text !== undefined && (!type || type === 'text' || type === 'input_text' || type === 'output_text')) return { type: 'text', content: text }
  if (type === 'thinking' || type === 'reasoning' || p.thought === true) return { type: 'reasoning', content: str(p.thinking) ?? text ?? '' }
  // OpenAI chat tool call, Anthropic tool_use, Responses function_call, Gemini functionCall, Bedrock toolUse.
  const fn = isObj(p.function) ? p.function : isObj(p.functionCall) ? p.functionCall : isObj(p.toolUse) ? p.toolUse : undefined
  if (type === 'function' || type === 'tool_use' || type === 'function_call' || fn) {
    const src = fn ?? p
    return { type: 'tool_call', id: str(p.call_id) ?? str(p.id) ?? str(src.toolUseId), name: str(src.name), arguments: src.arguments ?? src.input ?? src.args }
  }
  const result = isObj(p.functionResponse) ? p.functionResponse : isObj(p.toolResult) ? p.toolResult : undefined
  if (type === 'tool_result' || type === 'function_call_output' || result) {
    const src = result ?? p
    return { type: 'tool_call_response', id: str(p.tool_use_id) ?? str(p.call_id) ?? str(src.toolUseId), response: src.content ?? src.output ?? src.response }
  }
  const modality = /image/.test(type ?? '') || p.image || p.image_url ? 'image' : /audio/.test(type ?? '') ? 'audio' : /video/.test(type ?? '') ? 'video' : undefined
  // Bytes and URLs of attachments stay out of telemetry; the type says what was there.
  return modality ? { type: 'blob', modality, original_type: type } : { type: type ?? Object.keys(p)[0] ?? 'unknown' }
}
