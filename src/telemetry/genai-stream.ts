/**
 * What a streamed response says about itself, read event by event beside the usage reader:
 * OpenAI/Groq chat chunks, Responses events, Anthropic events (also inside Bedrock invoke
 * `chunk` payloads), Gemini chunks and Bedrock Converse events. Events are parsed only when
 * they can carry what we want (the first chunk, the one with the finish reason), or all of
 * them when content capture is on.
 */
import type { StreamObserver } from '../proxy/context'
import { isObj, responseFromJson, str, type Json, type ResponseInfo } from './genai-attributes'
import type { Message, Part } from './genai-content'

const ANTHROPIC_EVENTS = new Set(['message_start', 'message_delta', 'content_block_start', 'content_block_delta', 'message_stop', 'ping', 'content_block_stop'])
const RESPONSES_DONE = new Set(['response.completed', 'response.incomplete', 'response.failed'])

/** Fills `info` from a streamed response; with `capture`, also reassembles its output messages. */
export function streamResponseObserver(info: ResponseInfo, capture: boolean): StreamObserver {
  const acc = capture ? new OutputAccumulator() : undefined
  const finishAt = (index: number, reason: unknown) => {
    if (typeof reason !== 'string' || !reason) return
    const list = (info.finishReasons ??= [])
    list[index] = reason
    acc?.finish(index, reason)
  }
  const anthropic = (ev: Json) => {
    if (ev.type === 'message_start' && isObj(ev.message)) {
      info.id ??= str(ev.message.id)
      info.model ??= str(ev.message.model)
    } else if (ev.type === 'message_delta' && isObj(ev.delta)) finishAt(0, ev.delta.stop_reason)
    else if (acc && ev.type === 'content_block_start' && isObj(ev.content_block)) acc.block(0, Number(ev.index), ev.content_block)
    else if (acc && ev.type === 'content_block_delta' && isObj(ev.delta)) acc.delta(0, Number(ev.index), ev.delta)
  }
  return {
    event(name, data) {
      if (name === 'chunk') {
        // Bedrock invoke streams: base64 JSON of the model's own event (Anthropic's for Claude).
        const inner = tryParse(data)
        const bytes = inner && str(inner.bytes)
        const ev = bytes ? tryParse(Buffer.from(bytes, 'base64').toString('utf8')) : undefined
        if (ev) anthropic(ev)
        return
      }
      if (name && ANTHROPIC_EVENTS.has(name)) {
        if (name === 'ping' || name === 'message_stop' || name === 'content_block_stop') return
        if (!acc && (name === 'content_block_start' || name === 'content_block_delta')) return
        const ev = tryParse(data)
        if (ev) anthropic(ev)
        return
      }
      if (name?.startsWith('response.') || (!name && data.includes('"type":"response.'))) {
        if (name && name !== 'response.created' && !RESPONSES_DONE.has(name)) return
        const ev = tryParse(data)
        if (ev && isObj(ev.response) && (ev.type === 'response.created' || RESPONSES_DONE.has(ev.type as string))) responseFromJson(ev.response, info, capture)
        return
      }
      if (name === 'messageStop' || name === 'messageStart' || name === 'contentBlockDelta' || name === 'contentBlockStart') {
        if (name === 'messageStop') finishAt(0, tryParse(data)?.stopReason)
        else if (acc && name !== 'messageStart') {
          const ev = tryParse(data)
          if (ev && name === 'contentBlockDelta' && isObj(ev.delta)) acc.bedrockDelta(Number(ev.contentBlockIndex), ev.delta)
          if (ev && name === 'contentBlockStart' && isObj(ev.start)) acc.block(0, Number(ev.contentBlockIndex), ev.start)
        }
        return
      }
      if (data.charCodeAt(0) !== 123 /* { */) return // `[DONE]` and other sentinels
      // OpenAI/Groq chat chunks and Gemini chunks: parse the first, those with a finish reason, or all when capturing.
      const interesting = !info.model || acc || data.includes('"finish_reason":"') || data.includes('"finishReason"')
      if (!interesting) return
      const ev = tryParse(data)
      if (!ev) return
      if (!name && typeof ev.type === 'string' && ANTHROPIC_EVENTS.has(ev.type)) return anthropic(ev)
      info.id ??= str(ev.id) ?? str(ev.responseId)
      info.model ??= str(ev.model) ?? str(ev.modelVersion)
      if (Array.isArray(ev.choices)) {
        for (const c of ev.choices) {
          if (!isObj(c)) continue
          const i = typeof c.index === 'number' ? c.index : 0
          if (acc && isObj(c.delta)) acc.chatDelta(i, c.delta)
          finishAt(i, c.finish_reason)
        }
      } else if (Array.isArray(ev.candidates)) {
        ev.candidates.forEach((c, j) => {
          if (!isObj(c)) return
          const i = typeof c.index === 'number' ? c.index : j
          if (acc && isObj(c.content) && Array.isArray(c.content.parts)) for (const p of c.content.parts) if (isObj(p)) acc.geminiPart(i, p)
          finishAt(i, c.finishReason)
        })
      }
    },
    get output() {
      return acc?.messages()
    },
  } as StreamObserver & { output?: Message[] }
}

/** Collects streamed output into messages, one per choice; only used when capturing content. */
class OutputAccumulator {
  private choices = new Map<number, { parts: Map<number, Part>; finish?: string }>()

  private choice(i: number) {
    let c = this.choices.get(i)
    if (!c) this.choices.set(i, (c = { parts: new Map() }))
    return c
  }

  finish(i: number, reason: string): void {
    this.choice(i).finish = reason
  }

  private text(i: number, block: number, type: 'text' | 'reasoning', s: unknown): void {
    if (typeof s !== 'string') return
    const parts = this.choice(i).parts
    const p = parts.get(block)
    if (p && p.type === type) p.content = `${p.content as string}${s}`
    else if (!p) parts.set(block, { type, content: s })
  }

  block(i: number, block: number, b: Json): void {
    if (b.type === 'tool_use' || isObj(b.toolUse)) {
      const src = isObj(b.toolUse) ? b.toolUse : b
      this.choice(i).parts.set(block, { type: 'tool_call', id: str(src.id) ?? str(src.toolUseId), name: str(src.name), arguments: '' })
    } else if (b.type === 'text') this.text(i, block, 'text', b.text)
  }

  delta(i: number, block: number, d: Json): void {
    if (d.type === 'text_delta') this.text(i, block, 'text', d.text)
    else if (d.type === 'thinking_delta') this.text(i, block, 'reasoning', d.thinking)
    else if (d.type === 'input_json_delta') this.args(i, block, d.partial_json)
  }

  bedrockDelta(block: number, d: Json): void {
    if (typeof d.text === 'string') this.text(0, block, 'text', d.text)
    else if (isObj(d.toolUse)) this.args(0, block, d.toolUse.input)
  }

  chatDelta(i: number, d: Json): void {
    this.text(i, -1, 'text', d.content)
    if (!Array.isArray(d.tool_calls)) return
    for (const tc of d.tool_calls) {
      if (!isObj(tc)) continue
      const block = typeof tc.index === 'number' ? tc.index : 0
      const fn = isObj(tc.function) ? tc.function : {}
      const parts = this.choice(i).parts
      if (!parts.has(block)) parts.set(block, { type: 'tool_call', id: str(tc.id), name: str(fn.name), arguments: '' })
      this.args(i, block, fn.arguments)
    }
  }

  geminiPart(i: number, p: Json): void {
    const parts = this.choice(i).parts
    if (typeof p.text === 'string') this.text(i, p.thought === true ? -2 : -1, p.thought === true ? 'reasoning' : 'text', p.text)
    else if (isObj(p.functionCall)) parts.set(parts.size, { type: 'tool_call', name: str(p.functionCall.name), arguments: p.functionCall.args })
  }

  private args(i: number, block: number, s: unknown): void {
    const p = this.choice(i).parts.get(block)
    if (p && p.type === 'tool_call' && typeof s === 'string') p.arguments = `${(p.arguments as string) ?? ''}${s}`
  }

  messages(): Message[] {
    return [...this.choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, c]) => ({
        role: 'assistant',
        parts: [...c.parts.entries()].sort(([a], [b]) => a - b).map(([, p]) => p),
        ...(c.finish ? { finish_reason: c.finish } : {}),
      }))
  }
}

function tryParse(s: string): Json | undefined {
  try {
    const v = JSON.parse(s)
    return isObj(v) ? v : undefined
  } catch {
    return undefined
  }
}
