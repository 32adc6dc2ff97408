/**
 * What Gemini-format requests and answers say about themselves (the Gemini API and Vertex):
 * `responseId`, `modelVersion` and each candidate's `finishReason`. In a stream, the first
 * chunk and those with a finish reason are parsed, or every chunk when capturing content.
 */
import type { GenAiInput, GenAiMessage, ResponseInfo, TelemetryFormat, TelemetryStream } from '../types'
import type { EndpointTable } from './endpoints'
import { finish, isObj, messagesOf, partsOf, systemOf } from './genai-content'
import { OutputAccumulator } from './genai-output'
import { parseObject } from './stream-events'
import { finishAt, requestParams, setFinishReasons, str } from './telemetry'

type Json = Record<string, unknown>

export function googleInput(json: Json): GenAiInput {
  return { messages: messagesOf(json.contents), system: systemOf(json.systemInstruction ?? json.system_instruction) }
}

export function googleOutput(body: unknown): GenAiMessage[] | undefined {
  if (!isObj(body) || !Array.isArray(body.candidates)) return undefined
  return body.candidates.filter(isObj).map((c) => ({ role: 'assistant', parts: partsOf(isObj(c.content) ? c.content.parts : undefined), ...finish(c.finishReason) }))
}

export function googleResponse(body: unknown, info: ResponseInfo, capture: boolean): void {
  if (!isObj(body)) return
  info.id ??= str(body.responseId)
  info.model ??= str(body.modelVersion)
  if (Array.isArray(body.candidates)) setFinishReasons(info, body.candidates.map((c) => (isObj(c) ? c.finishReason : undefined)))
  if (capture) info.output = googleOutput(body) ?? info.output
}

function addPart(acc: OutputAccumulator, i: number, p: Json): void {
  if (typeof p.text === 'string') acc.text(i, p.thought === true ? -2 : -1, p.thought === true ? 'reasoning' : 'text', p.text)
  else if (isObj(p.functionCall)) acc.add(i, { type: 'tool_call', name: str(p.functionCall.name), arguments: p.functionCall.args })
}

export function googleTelemetryStream(info: ResponseInfo, capture: boolean): TelemetryStream {
  const acc = capture ? new OutputAccumulator() : undefined
  return {
    event(_name, data) {
      if (data.charCodeAt(0) !== 123 /* { */) return
      if (info.model && !acc && !data.includes('"finishReason"')) return
      const ev = parseObject(data)
      if (!ev) return
      info.id ??= str(ev.responseId)
      info.model ??= str(ev.modelVersion)
      if (!Array.isArray(ev.candidates)) return
      ev.candidates.forEach((c, j) => {
        if (!isObj(c)) return
        const i = typeof c.index === 'number' ? c.index : j
        if (acc && isObj(c.content) && Array.isArray(c.content.parts)) for (const p of c.content.parts) if (isObj(p)) addPart(acc, i, p)
        finishAt(info, acc, i, c.finishReason)
      })
    },
    output: () => acc?.messages(),
  }
}

export function googleTelemetry(table: Pick<EndpointTable, 'params' | 'choices'>): TelemetryFormat {
  return { request: (json) => requestParams(table, json), input: googleInput, response: googleResponse, stream: googleTelemetryStream }
}
