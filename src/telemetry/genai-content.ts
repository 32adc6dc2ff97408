/**
 * Message content in the GenAI semantic conventions' shape (`gen_ai.input.messages`,
 * `gen_ai.output.messages`, `gen_ai.system_instructions`): `{ role, parts: [{ type, … }] }`.
 * Read only when a project switches content capture on. Binary parts (images, files, audio)
 * keep their type and modality but never their bytes.
 */

export interface Part {
  type: string
  [k: string]: unknown
}

export interface Message {
  role: string
  parts: Part[]
  finish_reason?: string
}

type Json = Record<string, unknown>

const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

/** The request's messages and system instructions, whichever provider format the body is in. */
export function inputContent(json: Json | undefined): { messages?: Message[]; system?: Part[] } {
  if (!json) return {}
  // Anthropic `system`, Gemini `systemInstruction`, Bedrock `system`, Responses `instructions`.
  const system = partsOf(json.system ?? json.systemInstruction ?? json.system_instruction ?? json.instructions)
  let messages: Message[] | undefined
  if (Array.isArray(json.messages)) messages = json.messages.filter(isObj).map((m) => messageOf(m))
  else if (Array.isArray(json.contents)) messages = json.contents.filter(isObj).map((m) => messageOf(m))
  else if (typeof json.input === 'string') messages = [{ role: 'user', parts: [{ type: 'text', content: json.input }] }]
  else if (Array.isArray(json.input)) messages = responsesInput(json.input)
  return { messages, system: system.length ? system : undefined }
}

/** The response's messages, one per choice / candidate. */
export function outputContent(body: unknown): Message[] | undefined {
  if (!isObj(body)) return undefined
  if (Array.isArray(body.choices)) {
    return body.choices.filter(isObj).map((c) => ({ ...messageOf(isObj(c.message) ? c.message : {}, 'assistant'), ...finish(c.finish_reason) }))
  }
  if (Array.isArray(body.candidates)) {
    return body.candidates.filter(isObj).map((c) => ({ role: 'assistant', parts: partsOf(isObj(c.content) ? c.content.parts : undefined), ...finish(c.finishReason) }))
  }
  if (body.type === 'message' && Array.isArray(body.content)) return [{ role: 'assistant', parts: partsOf(body.content), ...finish(body.stop_reason) }]
  if (Array.isArray(body.output)) return [{ role: 'assistant', parts: body.output.filter(isObj).flatMap(responsesItemParts), ...finish(body.status) }]
  const bedrock = isObj(body.output) && isObj(body.output.message) ? body.output.message : undefined
  if (bedrock) return [{ role: 'assistant', parts: partsOf(bedrock.content), ...finish(body.stopReason) }]
  return undefined
}

function finish(v: unknown): { finish_reason?: string } {
  return typeof v === 'string' ? { finish_reason: v } : {}
}

function messageOf(m: Json, defaultRole = 'user'): Message {
  const role = str(m.role) ?? defaultRole
  // Gemini calls the assistant "model"; the conventions say "assistant".
  const parts = partsOf(m.content ?? m.parts)
  if (Array.isArray(m.tool_calls)) for (const tc of m.tool_calls) if (isObj(tc)) parts.push(part(tc))
  if (role === 'tool' && typeof m.tool_call_id === 'string') {
    return { role, parts: [{ type: 'tool_call_response', id: m.tool_call_id, response: parts.map((p) => p.content ?? '').join('') }] }
  }
  return { role: role === 'model' ? 'assistant' : role, parts }
}

function partsOf(content: unknown): Part[] {
  if (typeof content === 'string') return [{ type: 'text', content }]
  if (Array.isArray(content)) return content.map((p) => (typeof p === 'string' ? { type: 'text', content: p } : isObj(p) ? part(p) : { type: 'unknown' }))
  if (isObj(content)) return partsOf(content.parts ?? content.content ?? (typeof content.text === 'string' ? content.text : undefined))
  return []
}

/** One content block, whatever the provider calls it. */
function part(p: Json): Part {
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

/** Responses API `input`: messages and tool items in one list. */
function responsesInput(items: unknown[]): Message[] {
  const out: Message[] = []
  for (const it of items) {
    if (!isObj(it)) continue
    if (typeof it.role === 'string') out.push(messageOf(it))
    else out.push({ role: it.type === 'function_call_output' ? 'tool' : 'assistant', parts: responsesItemParts(it) })
  }
  return out
}

function responsesItemParts(it: Json): Part[] {
  if (it.type === 'message') return partsOf(it.content)
  if (it.type === 'reasoning') {
    const summary = Array.isArray(it.summary) ? it.summary.map((s) => (isObj(s) ? (str(s.text) ?? '') : '')).join('\n') : ''
    return [{ type: 'reasoning', content: summary }]
  }
  return [part(it)]
}
