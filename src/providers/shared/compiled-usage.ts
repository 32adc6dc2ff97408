/**
 * genai-prices' extractUsage, compiled once per (provider, flavor). The library interprets its
 * extractor data on every call (path copies, validation of every mapping): 1.7 µs per OpenAI
 * body, on every response. Extractors whose paths are plain keys become a fixed walk here; the
 * result is the library's own, and test/providers/compiled-usage.test.ts checks it against
 * extractUsage over every recording and mutations of them. Extractors with array-matching steps
 * (Gemini's per-modality details) are not compiled and stay with the library.
 */
import { extractUsage, type Provider } from '@pydantic/genai-prices'

type Json = Record<string, unknown>

/** The result of extractUsage, or a throw where it throws. */
export type Extract = (body: unknown) => { model: string | null; usage: Record<string, number> }

interface Mapping {
  path: string[]
  dest: string
  required: boolean
}

interface ExtractorData {
  api_flavor: string
  root: string | string[]
  model_path: string | string[]
  mappings: { path: unknown; dest: string; required: boolean }[]
}

const isMapping = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

function steps(path: unknown): string[] | undefined {
  const list = Array.isArray(path) ? path : [path]
  return list.length && list.every((s) => typeof s === 'string') ? (list as string[]) : undefined
}

class Miss extends Error {}

/** The value at `path` under `from`, as the library walks it: undefined when absent or not of the wanted type. */
function walk(from: unknown, path: string[], wanted: (v: unknown) => boolean): unknown {
  let cur = from
  for (let i = 0; i < path.length - 1; i++) {
    if (!isMapping(cur)) return undefined
    cur = cur[path[i]!]
    if (cur === undefined) return undefined
  }
  if (!isMapping(cur)) return undefined
  const v = cur[path[path.length - 1]!]
  return v !== undefined && wanted(v) ? v : undefined
}

const isString = (v: unknown) => typeof v === 'string'
const isNumber = (v: unknown) => typeof v === 'number'

function check(v: number): number {
  if (!Number.isFinite(v) || v < 0) throw new Miss('invalid usage value')
  return v
}

/**
 * The compiled extractor, or undefined when this one cannot be compiled. Which destinations
 * the library reports, and in what order, is learnt from the library itself: one call on a
 * body holding a 1 at every mapped path.
 */
export function compileExtractor(provider: Provider, flavor: string): Extract | undefined {
  const data = (provider as unknown as { extractors?: ExtractorData[] }).extractors?.find((e) => e.api_flavor === flavor)
  if (!data) return undefined
  const root = steps(data.root)
  const modelPath = steps(data.model_path)
  if (!root || !modelPath) return undefined
  const all: Mapping[] = []
  for (const m of data.mappings) {
    const path = steps(m.path)
    if (!path) return undefined
    all.push({ path, dest: m.dest, required: m.required })
  }
  // A body with every mapped path set to 1.
  const usage: Json = {}
  for (const m of all) {
    let at = usage
    for (let i = 0; i < m.path.length - 1; i++) {
      const next = at[m.path[i]!]
      if (next === undefined) at[m.path[i]!] = {}
      else if (!isMapping(next)) return undefined
      at = at[m.path[i]!] as Json
    }
    const last = m.path[m.path.length - 1]!
    if (isMapping(at[last])) return undefined
    at[last] = 1
  }
  const probe: Json = {}
  let at = probe
  for (let i = 0; i < root.length - 1; i++) at = at[root[i]!] = {} as Json
  at[root[root.length - 1]!] = usage
  let reported: string[]
  try {
    reported = Object.keys(extractUsage(provider, probe, flavor).usage)
  } catch {
    return undefined
  }
  const order = new Set(reported)
  const mappings = all.filter((m) => order.has(m.dest))
  // A destination reported but never mapped would mean the probe misread the library.
  if (new Set(mappings.map((m) => m.dest)).size !== order.size) return undefined

  return (body) => {
    if (!isMapping(body)) throw new Miss('not a mapping')
    const model = walk(body, modelPath, isString) as string | undefined
    const u = walk(body, root, isMapping)
    if (u === undefined) throw new Miss('no usage')
    const sums: Record<string, number> = {}
    let found = false
    for (const m of mappings) {
      const v = walk(u, m.path, isNumber) as number | undefined
      if (v === undefined) {
        if (m.required) throw new Miss(`missing ${m.dest}`)
        continue
      }
      sums[m.dest] = (sums[m.dest] ?? 0) + check(v)
      found = true
    }
    if (mappings.length && !found) throw new Miss('no usage information')
    // The library's key order.
    const out: Record<string, number> = {}
    for (const k of reported) if (sums[k] !== undefined) out[k] = sums[k]!
    return { model: model ?? null, usage: out }
  }
}
