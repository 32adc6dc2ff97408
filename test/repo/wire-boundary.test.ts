/**
 * The wire boundary: knowledge of a provider's wire format lives in src/providers. Outside it,
 * a file may import only src/providers/registry.ts and src/providers/types.ts, and may not name
 * a provider's wire fields (code only: comments may mention them).
 *
 * KNOWN lists what has not moved yet, file by file. It may only shrink: a new offender fails,
 * and so does a listed one that no longer offends (take it off the list).
 */
import { expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

const ROOT = resolve(import.meta.dir, '../..')
const SRC = join(ROOT, 'src')

/**
 * Provider wire fields, event names and headers the core must not name. (Gemini's `maxOutputTokens`
 * is left out: the core's own Classification.maxOutputTokens has that spelling; `generationConfig` catches it.)
 */
const WIRE = [
  'max_tokens',
  'max_completion_tokens',
  'max_output_tokens',
  'max_tokens_to_sample',
  'finish_reason',
  'finishReason',
  'stop_reason',
  'stopReason',
  'content_block',
  'contentBlockDelta',
  'text_delta',
  'partial_json',
  'usageMetadata',
  'generationConfig',
  'inferenceConfig',
  'candidateCount',
  'include_usage',
  'message_stop',
  'messageStop',
  'response.completed',
  '[DONE]',
  'vnd.amazon.eventstream',
  'anthropic-version',
]

const IMPORT_ALLOWED = new Set(['src/providers/registry.ts', 'src/providers/types.ts'])

/**
 * Not moved, file by file: config fields that share a wire field's spelling but are the
 * gateway's own. `[[pricing.models]] max_output_tokens` is an operator's price-table entry
 * (genai-prices' own field name), not a request field; renaming it would break users' config.
 */
const KNOWN: Record<string, string[]> = {
  'src/config/schema.ts': ['max_output_tokens'],
  'src/spend/prices.ts': ['max_output_tokens'],
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    if (e.isDirectory()) return files(p)
    return /\.ts$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : []
  })
}

/** Code without its comments (a URL's `//` inside a string only removes more: harmless here). */
function code(text: string): string {
  // OpenTelemetry's GenAI attribute names (`gen_ai.request.max_tokens`) are the conventions' own, not a wire's.
  return text.replace(/'gen_ai\.[a-z_.]+'/g, "''").replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
}

function offences(file: string, text: string): string[] {
  const out: string[] = []
  const body = code(text)
  for (const name of WIRE) {
    const re = new RegExp(`(^|[^A-Za-z0-9_])${name.replace(/[.[\]]/g, '\\$&')}($|[^A-Za-z0-9_])`)
    if (re.test(body)) out.push(name)
  }
  // Static imports and re-exports (`from '…'`), dynamic imports and requires, either quote.
  for (const m of body.matchAll(/\bfrom\s+(['"])([^'"]+)\1|\b(?:import|require)\(\s*(['"])([^'"]+)\3\s*\)/g)) {
    const spec = m[2] ?? m[4]!
    if (!spec.startsWith('.')) continue
    const target = relative(ROOT, resolve(ROOT, file, '..', spec))
    if (!target.startsWith('src/providers')) continue
    const withExt = target.endsWith('.ts') ? target : `${target}.ts`
    if (IMPORT_ALLOWED.has(withExt)) continue
    out.push(`import ${target.slice('src/providers/'.length).replace(/\/index$/, '')}`)
  }
  return out
}

/** Every file outside src/providers that crosses the boundary, with what it names. */
export function boundaryOffences(read: (file: string) => string = (f) => readFileSync(join(ROOT, f), 'utf8')): Record<string, string[]> {
  const found: Record<string, string[]> = {}
  for (const abs of files(SRC)) {
    const file = relative(ROOT, abs)
    if (file.startsWith('src/providers/')) continue
    const list = offences(file, read(file))
    if (list.length) found[file] = [...new Set(list)].sort()
  }
  return found
}

test('no file outside src/providers reads a wire format or imports a provider folder (beyond the known, shrinking list)', () => {
  const found = boundaryOffences()
  const known = Object.fromEntries(Object.entries(KNOWN).map(([f, l]) => [f, [...l].sort()]))
  expect(found).toEqual(known)
})

test('the check catches what moved: the tap regex and the Bedrock content type as they were', () => {
  const tap = `const TEXT_FIELD = /"(?:text|content|delta|thinking|partial_json|arguments|refusal)"\\s*:\\s*"/g`
  const attempt = `const eventStream = contentType.includes('text/event-stream') || contentType.includes('vnd.amazon.eventstream')`
  const header = `import { anthropicErrorEvent } from '../providers/anthropic/errors'`
  expect(offences('src/spend/tap.ts', tap)).toEqual(['partial_json'])
  expect(offences('src/proxy/attempt.ts', attempt)).toEqual(['vnd.amazon.eventstream'])
  // Telemetry's stream sniffer as it was (src/telemetry/genai-stream.ts).
  expect(offences('src/telemetry/genai-stream.ts', `if (name === 'messageStop') finishAt(0, tryParse(data)?.stopReason)`)).toEqual(['stopReason', 'messageStop'])
  expect(offences('src/proxy/x.ts', header)).toEqual(['import anthropic/errors'])
  // Past the registry by any route: a re-export, a type import, a dynamic import, double quotes, an index.
  expect(offences('src/proxy/x.ts', `export { openAiErrorShape } from '../providers/shared/openai-errors'`)).toEqual(['import shared/openai-errors'])
  expect(offences('src/proxy/x.ts', `import type { X } from "../providers/bedrock/eventstream"`)).toEqual(['import bedrock/eventstream'])
  expect(offences('src/config/x.ts', `const m = await import('../providers/google-vertex/config-check')`)).toEqual(['import google-vertex/config-check'])
  expect(offences('src/proxy/x.ts', `import { FRONT_DOOR_API } from '../providers/openai-compat'`)).toEqual(['import openai-compat'])
  expect(offences('src/proxy/x.ts', `import { normalizePath } from '../providers/registry'\nimport type { ProviderApi } from '../providers/types'`)).toEqual([])
  // Comments may name fields; config names and semconv attributes that merely contain one do not count.
  expect(offences('src/x.ts', `// finish_reason\nconst d = cfg.default_max_output_tokens, a = 'gen_ai.request.max_tokens'`)).toEqual([])
})
