/**
 * What every format's telemetry.ts shares: request parameters read with the format's endpoint
 * table (EndpointTable.params and .choices), and recording a finish reason per choice.
 */
import type { RequestParams, ResponseInfo } from '../types'
import { at, type EndpointTable, type ParamFields } from './endpoints'
import type { OutputAccumulator } from './genai-output'

/** A non-empty string, else undefined. */
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined)

const NUMBERS = ['temperature', 'topP', 'topK', 'frequencyPenalty', 'presencePenalty'] as const
const STRINGS = ['stopSequences', 'encodingFormats'] as const

function first(json: Record<string, unknown>, fields: readonly string[] | undefined): unknown {
  for (const f of fields ?? []) {
    const v = at(json, f)
    if (v !== undefined && v !== null) return v
  }
  return undefined
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

/** The request's parameters, each from the first of its table's fields the body sets (a value of the wrong type records nothing). */
export function requestParams(table: Pick<EndpointTable, 'params' | 'choices'>, json: Record<string, unknown>): RequestParams {
  const out: RequestParams = {}
  const fields: ParamFields = table.params ?? {}
  for (const k of NUMBERS) {
    const v = first(json, fields[k])
    if (isNum(v)) out[k] = v
  }
  const seed = first(json, fields.seed)
  if (isNum(seed) && Number.isInteger(seed)) out.seed = seed
  for (const k of STRINGS) {
    const v = first(json, fields[k])
    const list = typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []
    if (list.length) out[k] = list
  }
  // The conventions record a choice count only when it is not 1.
  const n = first(json, table.choices)
  if (isNum(n) && Number.isInteger(n) && n !== 1) out.choiceCount = n
  return out
}

/** Records choice `index`'s finish reason (and on the reassembled output). */
export function finishAt(info: ResponseInfo, acc: OutputAccumulator | undefined, index: number, reason: unknown): void {
  if (typeof reason !== 'string' || !reason) return
  const list = (info.finishReasons ??= [])
  list[index] = reason
  acc?.finish(index, reason)
}

/** Finish reasons of a complete answer, when it has any (they replace what a stream said). */
export function setFinishReasons(info: ResponseInfo, reasons: unknown[]): void {
  const list = reasons.filter((r): r is string => typeof r === 'string' && r.length > 0)
  if (list.length) info.finishReasons = list
}
