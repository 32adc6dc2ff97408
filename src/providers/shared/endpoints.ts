/**
 * The endpoint-table machinery every format shares: path patterns (`chat/completions`,
 * `files/{id}/content`, `v1beta/models/{model}:generateContent`; `{name}` is one segment,
 * `{name...}` the rest), one path normalisation, and the step from a matched row to the
 * Classification the core reads. The rows themselves live in each provider's endpoints.ts.
 */
import { InvalidRequestError } from '../../errors'
import type { Classification, EndpointClass, InboundRequest, ObjectKind, ObjectRef, RequestParams } from '../types'

export interface EndpointRow {
  method: string
  path: string
  operation: string
  class: EndpointClass
  /** Where the model is: the body's `model`, the `{model}` path segment, or the multipart `model` field. */
  model?: 'body' | 'path' | 'form'
  /** `body`: the body's `stream: true`; `always`: the endpoint streams. */
  stream?: 'body' | 'always'
  /** Object access: the kind of object the `{id}` segment names, and what the request does to it. */
  object?: { kind: ObjectKind; action: ObjectRef['action'] }
  creates?: ObjectKind
  /** The answer may name objects of this kind made while serving it (Classification.yields). */
  yields?: ObjectKind
  lists?: ObjectKind
  refusal?: Classification['refusal']
}

export interface EndpointTable {
  rows: readonly EndpointRow[]
  /** The format's output-token bound fields, in one order of precedence (dotted paths into the body). */
  maxTokens: readonly string[]
  /** The format's choice-count fields (dotted paths). */
  choices?: readonly string[]
  /** Whether a body pulls in context it does not carry (previous_response_id, file ids, cachedContent, …). */
  contextByReference?(json: Record<string, unknown>): boolean
  /**
   * What telemetry records of a request (src/providers/shared/telemetry.ts): per parameter, its
   * fields in one order of precedence (dotted paths). The choice count is `choices`.
   */
  params?: ParamFields
}

/** The request parameters a format's body carries, each with its fields (dotted paths), first found wins. */
export type ParamFields = { readonly [K in Exclude<keyof RequestParams, 'choiceCount'>]?: readonly string[] }

/** Two formats' fields for one table whose rows take either body (Gemini's own and its OpenAI-compatible rows): `a`'s first. */
export function mergeParams(a: ParamFields, b: ParamFields): ParamFields {
  const out: Record<string, readonly string[]> = {}
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof ParamFields>) out[k] = [...(a[k] ?? []), ...(b[k] ?? [])]
  return out
}

interface Compiled {
  row: EndpointRow
  re: RegExp
  names: string[]
}

const cache = new WeakMap<EndpointTable, Compiled[]>()

/** A pattern as a regex: `{name}` one segment (up to a `:` when one follows), `{name...}` the rest. */
export function compilePattern(pattern: string): { re: RegExp; names: string[] } {
  const names: string[] = []
  let src = ''
  const parts = pattern.split(/(\{[a-zA-Z_]+(?:\.\.\.)?\})/)
  parts.forEach((p, i) => {
    const m = /^\{([a-zA-Z_]+)(\.\.\.)?\}$/.exec(p)
    if (!m) return void (src += p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    names.push(m[1]!)
    const next = parts[i + 1] ?? ''
    src += m[2] ? '(.+)' : next.startsWith(':') ? '([^/:]+)' : '([^/]+)'
  })
  return { re: new RegExp(`^${src}$`), names }
}

function compiled(table: EndpointTable): Compiled[] {
  let c = cache.get(table)
  if (!c) cache.set(table, (c = table.rows.map((row) => ({ row, ...compilePattern(row.path) }))))
  return c
}

const UNRESERVED = /%(4[1-9A-F]|5[0-9A]|6[1-9A-F]|7[0-9A]|3[0-9]|2D|2E|5F|7E|3A)/gi

/**
 * The path as the table sees it: duplicate slashes collapsed, no leading or trailing slash,
 * and percent-encoded unreserved characters (and `:`, which Google clients encode) decoded.
 */
export function normalizePath(path: string): string {
  return path
    .replace(UNRESERVED, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
    .replace(/\/{2,}/g, '/')
    .replace(/^\/+|\/+$/g, '')
}

export interface Match {
  row: EndpointRow
  params: Record<string, string>
}

export function matchEndpoint(table: EndpointTable, method: string, path: string): Match | undefined {
  const m = method === 'HEAD' ? 'GET' : method
  for (const c of compiled(table)) {
    if (c.row.method !== m) continue
    const r = c.re.exec(path)
    if (!r) continue
    const params: Record<string, string> = {}
    c.names.forEach((n, i) => (params[n] = r[i + 1]!))
    return { row: c.row, params }
  }
  return undefined
}

/** Longest model name accepted: anything longer is refused before it is logged, priced or cached. */
export const MAX_MODEL_BYTES = 256

/** A model name within bounds, or a 400 before anything records it. */
export function boundedModel(model: string | undefined): string | undefined {
  if (model === undefined) return undefined
  if (Buffer.byteLength(model) > MAX_MODEL_BYTES) throw new InvalidRequestError(`model: the name is longer than ${MAX_MODEL_BYTES} bytes.`, 'invalid_model')
  // biome-ignore lint: control characters are what this refuses
  if (/[\u0000-\u001f\u007f]/.test(model)) throw new InvalidRequestError('model: the name contains control characters.', 'invalid_model')
  return model
}

/**
 * A model path segment as the upstream will read it: percent-decoded (`claude-3-5-haiku%4020241022`
 * is `…@20241022`), and refused when decoding makes it more than one name (`%2F`, `..`), so the
 * allow-list and the price see the model the upstream serves. Control characters: boundedModel.
 */
function pathModel(segment: string): string {
  let name: string
  try {
    name = decodeURIComponent(segment)
  } catch {
    throw new InvalidRequestError('model: the name in the path is not valid percent-encoding.', 'invalid_model')
  }
  if (/[/\\%]/.test(name) || name === '.' || name === '..') throw new InvalidRequestError('model: the name in the path must be one plain segment.', 'invalid_model')
  return name
}

/** The value at a dotted path into a JSON object. */
export function at(json: Record<string, unknown>, dotted: string): unknown {
  let v: unknown = json
  for (const k of dotted.split('.')) {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined
    v = (v as Record<string, unknown>)[k]
  }
  return v
}

function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.ceil(v) : undefined
}

/** The request's own output bound times its choices, read with the format's one precedence. */
export function maxOutputTokens(table: EndpointTable, json: Record<string, unknown> | undefined): number | undefined {
  if (!json) return undefined
  let max: number | undefined
  for (const f of table.maxTokens) if ((max = count(at(json, f))) !== undefined) break
  if (max === undefined) return undefined
  let n: number | undefined
  for (const f of table.choices ?? []) if ((n = count(at(json, f))) !== undefined) break
  return max * Math.max(1, n ?? 1)
}

function choiceCount(table: EndpointTable, json: Record<string, unknown> | undefined): number {
  if (!json) return 1
  let n: number | undefined
  for (const f of table.choices ?? []) if ((n = count(at(json, f))) !== undefined) break
  return Math.max(1, n ?? 1)
}

/** Classifies one request against a format's table; undefined when no row matches. */
export function classifyWith(table: EndpointTable, req: InboundRequest, model?: (m: Match) => string | undefined): Classification | undefined {
  const path = normalizePath(req.path)
  const m = matchEndpoint(table, req.method, path)
  if (!m) return undefined
  const { row, params } = m
  const json = req.json
  let name = model?.(m)
  if (name !== undefined) {
  } else if (row.model === 'body') name = typeof json?.model === 'string' ? json.model : undefined
  else if (row.model === 'path' && params.model !== undefined) name = pathModel(params.model)
  const out: Classification = {
    operation: row.operation,
    class: row.class,
    model: boundedModel(name),
    stream: row.stream === 'always' || (row.stream === 'body' && json?.stream === true),
  }
  if (row.class === 'metered') {
    out.maxOutputTokens = maxOutputTokens(table, json)
    const n = choiceCount(table, json)
    if (n > 1) out.choices = n
    if (json && table.contextByReference?.(json)) out.contextByReference = true
  }
  if (row.object && params.id !== undefined) out.object = { kind: row.object.kind, id: params.id, action: row.object.action }
  if (row.creates) out.creates = row.creates
  if (row.yields) out.yields = row.yields
  if (row.lists) out.lists = row.lists
  if (row.refusal) out.refusal = row.refusal
  return out
}
