/**
 * What OpenAI-format requests and answers say about themselves (OpenAI, Groq, Gemini's and every
 * provider's OpenAI-compatible endpoint): Chat Completions, the Responses API and embeddings.
 * - JSON: `id`, `model`, each choice's `finish_reason`; a Responses answer's `status` (or its
 *   `incomplete_details.reason`).
 * - Chat streams: the first chunk (id, model) and those with a `finish_reason` are parsed, or
 *   every chunk when capturing content (their deltas are the output).
 * - Responses streams: `response.created` and the final event carry the whole response.
 */
import type { GenAiInput, GenAiMessage, GenAiPart, ResponseInfo, TelemetryFormat, TelemetryStream } from '../types'
import type { EndpointTable } from './endpoints'
import { finish, isObj, messageOf, messagesOf, part, partsOf, systemOf } from './genai-content'
import { OutputAccumulator } from './genai-output'
import { parseObject } from './stream-events'
import { finishAt, requestParams, setFinishReasons, str } from './telemetry'

type Json = Record<string, unknown>

/** Chat `messages`, or Responses `input` (a string, or messages and tool items in one list) and `instructions`. */
export function openAiInput(json: Json): GenAiInput {
  let messages = messagesOf(json.messages)
  if (!messages && typeof json.input === 'string') messages = [{ role: 'user', parts: [{ type: 'text', content: json.input }] }]
  else if (!messages && Array.isArray(json.input)) messages = responsesInput(json.input)
  return { messages, system: systemOf(json.instructions) }
}

function responsesInput(items: unknown[]): GenAiMessage[] {
  const out: GenAiMessage[] = []
  for (const it of items) {
    if (!isObj(it)) continue
    if (typeof it.role === 'string') out.push(messageOf(it))
    else out.push({ role: it.type === 'function_call_output' ? 'tool' : 'assistant', parts: responsesItemParts(it) })
  }
  return out
}

function responsesItemParts(it: Json): GenAiPart[] {
  if (it.type === 'message') return partsOf(it.content)
  if (it.type === 'reasoning') {
    const summary = Array.isArray(it.summary) ? it.summary.map((s) => (isObj(s) ? (typeof s.text === 'string' ? s.text : '') : '')).join('\n') : ''
    return [{ type: 'reasoning', content: summary }]
  }
  return [part(it)]
}

const isResponse = (body: Json) => body.object === 'response' || (Array.isArray(body.output) && typeof body.status === 'string')

/** One message per chat choice, or a Responses answer's output items as one message. */
export function openAiOutput(body: unknown): GenAiMessage[] | undefined {
  if (!isObj(body)) return undefined
  if (Array.isArray(body.choices)) {
    return body.choices.filter(isObj).map((c) => ({ ...messageOf(isObj(c.message) ? c.message : {}, 'assistant'), ...finish(c.finish_reason) }))
  }
  if (Array.isArray(body.output)) return [{ role: 'assistant', parts: body.output.filter(isObj).flatMap(responsesItemParts), ...finish(body.status) }]
  return undefined
}

export function openAiResponse(body: unknown, info: ResponseInfo, capture: boolean): void {
  if (!isObj(body)) return
  info.id ??= str(body.id)
  info.model ??= str(body.model)
  if (Array.isArray(body.choices)) setFinishReasons(info, body.choices.map((c) => (isObj(c) ? c.finish_reason : undefined)))
  else if (isResponse(body)) {
    // `incomplete` carries its reason (max_output_tokens, content_filter).
    const incomplete = isObj(body.incomplete_details) ? str(body.incomplete_details.reason) : undefined
    setFinishReasons(info, [incomplete ?? body.status])
  }
  if (capture) info.output = openAiOutput(body) ?? info.output
}

function chatDelta(acc: OutputAccumulator, i: number, d: Json): void {
  acc.text(i, -1, 'text', d.content)
  if (!Array.isArray(d.tool_calls)) return
  for (const tc of d.tool_calls) {
    if (!isObj(tc)) continue
    const block = typeof tc.index === 'number' ? tc.index : 0
    const fn = isObj(tc.function) ? tc.function : {}
    if (!acc.has(i, block)) acc.toolCall(i, block, str(tc.id), str(fn.name))
    acc.args(i, block, fn.arguments)
  }
}

export function chatTelemetryStream(info: ResponseInfo, capture: boolean): TelemetryStream {
  const acc = capture ? new OutputAccumulator() : undefined
  return {
    event(_name, data) {
      if (data.charCodeAt(0) !== 123 /* { */) return // `[DONE]`
      if (info.model && !acc && !data.includes('"finish_reason":"')) return
      const ev = parseObject(data)
      if (!ev) return
      info.id ??= str(ev.id)
      info.model ??= str(ev.model)
      if (!Array.isArray(ev.choices)) return
      for (const c of ev.choices) {
        if (!isObj(c)) continue
        const i = typeof c.index === 'number' ? c.index : 0
        if (acc && isObj(c.delta)) chatDelta(acc, i, c.delta)
        finishAt(info, acc, i, c.finish_reason)
      }
    },
    output: () => acc?.messages(),
  }
}

const RESPONSES_DONE = new Set(['response.completed', 'response.incomplete', 'response.failed'])
/** An unnamed event's type: the first `type` member, which OpenAI writes first. */
const EVENT_TYPE = /"type"\s*:\s*"(response\.[a-z_.]+)"/

export function responsesTelemetryStream(info: ResponseInfo, capture: boolean): TelemetryStream {
  return {
    event(name, data) {
      const type = name ?? EVENT_TYPE.exec(data)?.[1]
      if (type !== 'response.created' && !RESPONSES_DONE.has(type ?? '')) return
      const ev = parseObject(data)
      if (ev && isObj(ev.response) && (ev.type === 'response.created' || RESPONSES_DONE.has(ev.type as string))) openAiResponse(ev.response, info, capture)
    },
    output: () => info.output,
  }
}

/** The OpenAI format's telemetry by flavor (`responses`, else chat and embeddings), with `table`'s request fields. */
export function openAiTelemetry(table: Pick<EndpointTable, 'params' | 'choices'>): (flavor: string) => TelemetryFormat {
  const chat: TelemetryFormat = { request: (json) => requestParams(table, json), input: openAiInput, response: openAiResponse, stream: chatTelemetryStream }
  const responses: TelemetryFormat = { ...chat, stream: responsesTelemetryStream }
  return (flavor) => (flavor === 'responses' ? responses : chat)
}
