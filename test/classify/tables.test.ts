/**
 * Pure tests of the endpoint tables, no HTTP: every row classifies a path built from its own
 * pattern, and every recorded request goes through its format's table to a row, with the model
 * the recording's body or path names.
 */
import { describe, expect, test } from 'bun:test'
import { ANTHROPIC_ENDPOINTS, classifyAnthropic } from '../../src/providers/anthropic/endpoints'
import { BEDROCK_ENDPOINTS, classifyBedrock } from '../../src/providers/bedrock/endpoints'
import { GEMINI_ENDPOINTS, classifyGemini } from '../../src/providers/gemini/endpoints'
import { VERTEX_ENDPOINTS, classifyVertex } from '../../src/providers/google-vertex/endpoints'
import { GROQ_ENDPOINTS, classifyGroq } from '../../src/providers/groq/endpoints'
import { OPENAI_ENDPOINTS, classifyOpenAi } from '../../src/providers/openai/endpoints'
import { compilePattern, normalizePath, type EndpointTable } from '../../src/providers/shared/endpoints'
import type { Classification, InboundRequest } from '../../src/providers/types'
import { listCassettes, loadCassette } from '../support/recordings'

function inbound(method: string, path: string, json?: Record<string, unknown>): InboundRequest {
  const body = json ? new TextEncoder().encode(JSON.stringify(json)) : null
  return { method, path, search: '', headers: new Headers({ 'content-type': 'application/json' }), body, json, gatewayBase: '' }
}

const SAMPLE: Record<string, string> = { version: 'v1beta', project: 'p', location: 'us-east5', publisher: 'google', id: 'obj_123', rest: 'a/b' }

const tables: [string, EndpointTable, (r: InboundRequest) => Classification | undefined][] = [
  ['openai', OPENAI_ENDPOINTS, classifyOpenAi],
  ['groq', GROQ_ENDPOINTS, classifyGroq],
  ['anthropic', ANTHROPIC_ENDPOINTS, classifyAnthropic],
  ['gemini', GEMINI_ENDPOINTS, classifyGemini],
  ['google-vertex', VERTEX_ENDPOINTS, classifyVertex],
  ['bedrock', BEDROCK_ENDPOINTS, classifyBedrock],
]

for (const [api, table, classify] of tables) {
  describe(`${api}: every row`, () => {
    for (const row of table.rows) {
      if (row.model === 'form') continue // multipart rows: test/classify/bypass.test.ts
      test(`${row.method} ${row.path} → ${row.operation} (${row.class})`, () => {
        const path = row.path.replace(/\{([a-z_]+)(\.\.\.)?\}/gi, (_, n: string) => (n === 'model' ? (api === 'gemini' && /\{model\}:/.test(row.path) ? 'gemini-2.0-flash' : 'gemini-2.0-flash') : (n === 'version' && api === 'google-vertex' ? 'v1beta1' : (SAMPLE[n] ?? 'x'))))
        const json = row.method === 'POST' || row.method === 'PATCH' ? (row.path.endsWith('messages/batches') ? { requests: [{ params: { model: 'claude-3-5-haiku-latest', max_tokens: 10 } }] } : { model: 'gemini-2.0-flash', max_tokens: 10 }) : undefined
        const c = classify(inbound(row.method, path, json))
        expect(c).toBeDefined()
        expect(c!.operation).toBe(row.operation)
        expect(c!.class).toBe(row.class)
        if (row.model === 'path' || row.model === 'body') expect(c!.model).toBeDefined()
        if (row.object) expect(c!.object).toEqual({ kind: row.object.kind, id: 'obj_123', action: row.object.action })
      })
    }
  })
}

describe('the matcher', () => {
  test('{name} is one segment, up to a colon when one follows; {name...} is the rest', () => {
    expect(compilePattern('v1/models/{model}:generateContent').re.exec('v1/models/gemini-2.0-flash:generateContent')?.[1]).toBe('gemini-2.0-flash')
    expect(compilePattern('files/{id}').re.test('files/a/b')).toBe(false)
    expect(compilePattern('files/{rest...}').re.exec('files/a/b')?.[1]).toBe('a/b')
  })
  test('paths are normalised once: slashes, trailing slash, unreserved percent-encoding', () => {
    expect(normalizePath('/v1beta//models/gemini-2.5-pro%3AgenerateContent/')).toBe('v1beta/models/gemini-2.5-pro:generateContent')
    expect(normalizePath('model/arn%3Aaws%3Abedrock%2Fx/converse')).toBe('model/arn:aws:bedrock%2Fx/converse')
    expect(normalizePath('v1/%63hat')).toBe('v1/chat')
  })
  test('one output bound per format, with one precedence, times the choices', () => {
    expect(classifyOpenAi(inbound('POST', 'chat/completions', { model: 'gpt-4o-mini', max_tokens: 10, max_completion_tokens: 20, n: 3 }))!.maxOutputTokens).toBe(60)
    expect(classifyGemini(inbound('POST', 'v1beta/models/gemini-2.0-flash:generateContent', { generationConfig: { maxOutputTokens: 7, candidateCount: 2 } }))!.maxOutputTokens).toBe(14)
    expect(classifyBedrock(inbound('POST', 'model/amazon.nova-lite-v1%3A0/converse', { inferenceConfig: { maxTokens: 9 } }))!).toMatchObject({ model: 'amazon.nova-lite-v1:0', maxOutputTokens: 9 })
  })
  test('context by reference is flagged', () => {
    expect(classifyOpenAi(inbound('POST', 'responses', { model: 'gpt-4o-mini', previous_response_id: 'resp_1', input: 'hi' }))!.contextByReference).toBe(true)
    expect(classifyOpenAi(inbound('POST', 'responses', { model: 'gpt-4o-mini', input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-1' }] }] }))!.contextByReference).toBe(true)
    expect(classifyAnthropic(inbound('POST', 'v1/messages', { model: 'claude-3-5-haiku-latest', messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'file', file_id: 'f' } }] }] }))!.contextByReference).toBe(true)
    expect(classifyGemini(inbound('POST', 'v1beta/models/gemini-2.0-flash:generateContent', { cachedContent: 'cachedContents/x' }))!.contextByReference).toBe(true)
    expect(classifyGemini(inbound('POST', 'v1beta/models/gemini-2.0-flash:generateContent', { contents: [{ parts: [{ fileData: { fileUri: 'u' } }] }] }))!.contextByReference).toBe(true)
    expect(classifyOpenAi(inbound('POST', 'chat/completions', { model: 'gpt-4o-mini', messages: [] }))!.contextByReference).toBeUndefined()
  })
})

const BY_HOST: [RegExp, (r: InboundRequest) => Classification | undefined][] = [
  [/api\.openai\.com/, classifyOpenAi],
  [/api\.groq\.com/, classifyGroq],
  [/api\.anthropic\.com/, classifyAnthropic],
  [/generativelanguage/, classifyGemini],
  [/aiplatform/, classifyVertex],
  [/bedrock-runtime/, classifyBedrock],
]

describe('every recorded request goes through its table', () => {
  for (const folder of ['openai', 'openai_responses', 'anthropic', 'groq', 'google', 'bedrock']) {
    test(folder, async () => {
      let n = 0
      for (const name of listCassettes(folder)) {
        for (const i of (await loadCassette(folder, name)).interactions) {
          const classify = BY_HOST.find(([re]) => re.test(i.host))?.[1]
          if (!classify) continue
          const json = i.requestBody && typeof i.requestBody === 'object' ? (i.requestBody as Record<string, unknown>) : undefined
          const c = classify(inbound(i.method, i.path.replace(/^\//, ''), json))
          if (!c) throw new Error(`${folder}/${name}: ${i.method} ${i.path} matched no row`)
          if (typeof json?.model === 'string' && c.class === 'metered' && !c.batch) expect(c.model).toBe(json.model)
          if (c.class === 'metered') expect(c.model ?? c.models?.[0]).toBeDefined()
          n++
        }
      }
      expect(n).toBeGreaterThan(0)
    })
  }
})
