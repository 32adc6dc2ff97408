/**
 * The compiled usage extractors (src/providers/shared/compiled-usage.ts) answer exactly as
 * genai-prices' extractUsage: the same usage, keys in the same order, the same model, and a
 * throw where it throws. Checked on every JSON body and stream event in the recordings, and on
 * seeded mutations of them (fields removed, nulled, made strings, negative, non-finite).
 */
import { expect, test } from 'bun:test'
import { extractUsage, findProvider, type Provider } from '@pydantic/genai-prices'
import { compileExtractor } from '../../src/providers/shared/compiled-usage'
import { listCassettes, loadCassette } from '../support/recordings'

const FOLDERS = ['openai', 'openai_responses', 'anthropic', 'groq', 'google', 'bedrock']

async function recordedObjects(): Promise<unknown[]> {
  const out: unknown[] = []
  const add = (v: unknown) => {
    if (!v || typeof v !== 'object') return
    out.push(v)
    // Stream events carry the usage one level down (Responses `response`, Anthropic `message`).
    for (const k of ['response', 'message']) if ((v as Record<string, unknown>)[k]) out.push((v as Record<string, unknown>)[k])
  }
  for (const folder of FOLDERS) {
    for (const name of listCassettes(folder)) {
      const c = await loadCassette(folder, name)
      for (const i of c.interactions) {
        add(i.responseJson)
        const text = new TextDecoder().decode(i.responseBody)
        for (const line of text.split('\n')) {
          if (!line.startsWith('data:')) continue
          try {
            add(JSON.parse(line.slice(5)))
          } catch {}
        }
      }
    }
  }
  return out
}

function outcome(f: () => unknown): string {
  try {
    return `ok ${JSON.stringify(f())}`
  } catch {
    return 'throws'
  }
}

let seed = 7
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
const BAD: unknown[] = [null, '12', -1, Number.NaN, Number.POSITIVE_INFINITY, [], {}, true, 0, 3.5]

/** A copy with one random node replaced, removed, or left alone. */
function mutate(v: unknown, depth = 0): unknown {
  if (Array.isArray(v)) return v.map((x) => mutate(x, depth + 1))
  if (!v || typeof v !== 'object') return v
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) {
    const r = rnd()
    if (r < 0.08) continue
    out[k] = r < 0.16 ? BAD[Math.floor(rnd() * BAD.length)] : mutate(x, depth + 1)
  }
  return out
}

test('compiled extractors equal extractUsage on every recorded body and on mutations of them', async () => {
  const objects = await recordedObjects()
  expect(objects.length).toBeGreaterThan(300)
  let compiled = 0
  let compared = 0
  for (const id of ['openai', 'anthropic', 'groq', 'google', 'aws', 'bedrock']) {
    const p = findProvider({ providerId: id }) as Provider
    for (const { api_flavor: flavor } of (p as unknown as { extractors: { api_flavor: string }[] }).extractors) {
      const fast = compileExtractor(p, flavor)
      if (!fast) continue
      compiled++
      for (const body of objects) {
        for (const b of [body, mutate(body), mutate(body), mutate(body)]) {
          const want = outcome(() => extractUsage(p, b, flavor))
          const got = outcome(() => fast(b))
          if (got !== want) throw new Error(`${id}/${flavor}: ${got} vs ${want} for ${JSON.stringify(b).slice(0, 300)}`)
          compared++
        }
      }
    }
  }
  // Every flavor but Gemini's array-matching one compiles.
  expect(compiled).toBeGreaterThanOrEqual(14)
  expect(compared).toBeGreaterThan(10_000)
})

test('an extractor with array-matching steps is left to the library', () => {
  const google = findProvider({ providerId: 'google' }) as Provider
  expect(compileExtractor(google, 'default')).toBeUndefined()
})
