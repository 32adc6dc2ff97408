/**
 * What Bedrock requests and answers say about themselves:
 * - Converse: `stopReason`, and `output.message` (JSON); `messageStop` and the content block
 *   events (stream, the latter only when capturing content);
 * - InvokeModel: the model's own body. Anthropic's messages (also at `v1/messages`) read as
 *   Anthropic's, and so do the Anthropic events inside an invoke stream's base64 `chunk`s;
 *   OpenAI-format bodies as OpenAI's; other families by their `stop_reason`.
 */
import { anthropicEvents, anthropicInput, anthropicResponse } from '../anthropic/telemetry'
import { isObj, partsOf, finish } from '../shared/genai-content'
import { OutputAccumulator } from '../shared/genai-output'
import { openAiResponse } from '../shared/openai-telemetry'
import { parseObject } from '../shared/stream-events'
import { finishAt, requestParams, setFinishReasons, str } from '../shared/telemetry'
import type { ResponseInfo, TelemetryFormat, TelemetryStream } from '../types'
import { BEDROCK_ENDPOINTS } from './endpoints'

type Json = Record<string, unknown>

function bedrockResponse(body: unknown, info: ResponseInfo, capture: boolean): void {
  if (!isObj(body)) return
  const message = isObj(body.output) && isObj(body.output.message) ? body.output.message : undefined
  if (message) {
    if (body.stopReason !== undefined) setFinishReasons(info, [body.stopReason])
    if (capture) info.output = [{ role: 'assistant', parts: partsOf(message.content), ...finish(body.stopReason) }]
    return
  }
  if (body.type === 'message') return anthropicResponse(body, info, capture)
  if (Array.isArray(body.choices)) return openAiResponse(body, info, capture)
  info.id ??= str(body.id)
  info.model ??= str(body.model)
  if (body.stop_reason !== undefined) setFinishReasons(info, [body.stop_reason])
}

/** The model's own event inside an invoke `chunk` (base64 JSON). */
function chunkEvent(data: string): Json | undefined {
  const bytes = parseObject(data)?.bytes
  return typeof bytes === 'string' ? parseObject(Buffer.from(bytes, 'base64').toString('utf8')) : undefined
}

function bedrockStream(info: ResponseInfo, capture: boolean): TelemetryStream {
  const acc = capture ? new OutputAccumulator() : undefined
  const anthropic = anthropicEvents(info, acc)
  return {
    event(name, data) {
      if (name === 'chunk') {
        const ev = chunkEvent(data)
        if (ev) anthropic(ev)
      } else if (name === 'messageStop') finishAt(info, acc, 0, parseObject(data)?.stopReason)
      else if (acc && (name === 'contentBlockDelta' || name === 'contentBlockStart')) {
        const ev = parseObject(data)
        if (!ev) return
        const block = Number(ev.contentBlockIndex)
        if (isObj(ev.delta)) {
          if (typeof ev.delta.text === 'string') acc.text(0, block, 'text', ev.delta.text)
          else if (isObj(ev.delta.toolUse)) acc.args(0, block, ev.delta.toolUse.input)
        } else if (isObj(ev.start) && isObj(ev.start.toolUse)) acc.toolCall(0, block, str(ev.start.toolUse.toolUseId), str(ev.start.toolUse.name))
      }
    },
    output: () => acc?.messages(),
  }
}

/** One format for every Bedrock flavor: the answer's shape says which body it is. */
const BEDROCK: TelemetryFormat = {
  request: (json) => requestParams(BEDROCK_ENDPOINTS, json),
  // Converse and Anthropic bodies both keep `system` and `messages`.
  input: anthropicInput,
  response: bedrockResponse,
  stream: bedrockStream,
}

export function bedrockTelemetry(_flavor: string): TelemetryFormat {
  return BEDROCK
}
