/**
 * What Anthropic Messages requests and answers say about themselves (also Claude on Vertex and
 * inside Bedrock invoke chunks): `id`, `model` and `stop_reason` of a message; in a stream,
 * `message_start` (id, model) and `message_delta` (stop reason) are parsed, and the content
 * block events only when capturing content.
 */
import { finish, isObj, messagesOf, partsOf, systemOf } from '../shared/genai-content'
import { OutputAccumulator } from '../shared/genai-output'
import type { EndpointTable } from '../shared/endpoints'
import { parseObject } from '../shared/stream-events'
import { finishAt, requestParams, setFinishReasons, str } from '../shared/telemetry'
import type { GenAiInput, GenAiMessage, ResponseInfo, TelemetryFormat, TelemetryStream } from '../types'
import { ANTHROPIC_ENDPOINTS } from './endpoints'

type Json = Record<string, unknown>

export function anthropicInput(json: Json): GenAiInput {
  return { messages: messagesOf(json.messages), system: systemOf(json.system) }
}

export function anthropicOutput(body: unknown): GenAiMessage[] | undefined {
  if (!isObj(body) || body.type !== 'message' || !Array.isArray(body.content)) return undefined
  return [{ role: 'assistant', parts: partsOf(body.content), ...finish(body.stop_reason) }]
}

export function anthropicResponse(body: unknown, info: ResponseInfo, capture: boolean): void {
  if (!isObj(body)) return
  info.id ??= str(body.id)
  info.model ??= str(body.model)
  if (body.stop_reason !== undefined) setFinishReasons(info, [body.stop_reason])
  if (capture) info.output = anthropicOutput(body) ?? info.output
}

/** Reads parsed Anthropic events into `info` (and `acc`): Bedrock feeds it the events inside its invoke chunks. */
export function anthropicEvents(info: ResponseInfo, acc: OutputAccumulator | undefined): (ev: Json) => void {
  return (ev) => {
    if (ev.type === 'message_start' && isObj(ev.message)) {
      info.id ??= str(ev.message.id)
      info.model ??= str(ev.message.model)
    } else if (ev.type === 'message_delta' && isObj(ev.delta)) finishAt(info, acc, 0, ev.delta.stop_reason)
    else if (acc && ev.type === 'content_block_start' && isObj(ev.content_block)) block(acc, Number(ev.index), ev.content_block)
    else if (acc && ev.type === 'content_block_delta' && isObj(ev.delta)) delta(acc, Number(ev.index), ev.delta)
  }
}

function block(acc: OutputAccumulator, i: number, b: Json): void {
  if (b.type === 'tool_use') acc.toolCall(0, i, str(b.id), str(b.name))
  else if (b.type === 'text') acc.text(0, i, 'text', b.text)
}

function delta(acc: OutputAccumulator, i: number, d: Json): void {
  if (d.type === 'text_delta') acc.text(0, i, 'text', d.text)
  else if (d.type === 'thinking_delta') acc.text(0, i, 'reasoning', d.thinking)
  else if (d.type === 'input_json_delta') acc.args(0, i, d.partial_json)
}

/** An unnamed event's type: Anthropic writes `type` first. */
const EVENT_TYPE = /^\{\s*"type"\s*:\s*"([a-z_]+)"/
const ALWAYS = new Set(['message_start', 'message_delta'])
const CONTENT = new Set(['content_block_start', 'content_block_delta'])

export function anthropicTelemetryStream(info: ResponseInfo, capture: boolean): TelemetryStream {
  const acc = capture ? new OutputAccumulator() : undefined
  const read = anthropicEvents(info, acc)
  return {
    event(name, data) {
      const type = name ?? EVENT_TYPE.exec(data)?.[1]
      if (!type || !(ALWAYS.has(type) || (acc && CONTENT.has(type)))) return
      const ev = parseObject(data)
      if (ev) read(ev)
    },
    output: () => acc?.messages(),
  }
}

/** Anthropic's telemetry with `table`'s request fields (Vertex and Bedrock pass their own). */
export function anthropicTelemetryWith(table: Pick<EndpointTable, 'params' | 'choices'>): TelemetryFormat {
  return { request: (json) => requestParams(table, json), input: anthropicInput, response: anthropicResponse, stream: anthropicTelemetryStream }
}

export const anthropicTelemetry = anthropicTelemetryWith(ANTHROPIC_ENDPOINTS)
