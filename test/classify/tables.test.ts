/**
 * Pure tests of the endpoint tables, no HTTP. Each format has a list of cases written out by
 * hand (method, path, and the operation, class, model and object expected); every case goes
 * through the format's classify, and a test fails when any table row has no case. Every recorded
 * request in test/fixtures/recordings goes through its format's table to the operation, class
 * and model the recording says.
 */
import { describe, expect, test } from 'bun:test'
import { ANTHROPIC_ENDPOINTS, classifyAnthropic } from '../../src/providers/anthropic/endpoints'
import { BEDROCK_ENDPOINTS, classifyBedrock } from '../../src/providers/bedrock/endpoints'
import { GEMINI_ENDPOINTS, classifyGemini } from '../../src/providers/gemini/endpoints'
import { VERTEX_ANTHROPIC_ENDPOINTS, VERTEX_ENDPOINTS, classifyVertex } from '../../src/providers/google-vertex/endpoints'
import { GROQ_ENDPOINTS, classifyGroq } from '../../src/providers/groq/endpoints'
import { OPENAI_ENDPOINTS, classifyOpenAi } from '../../src/providers/openai/endpoints'
import { FRONT_DOOR_ENDPOINTS, classifyFrontDoor } from '../../src/providers/openai-compat/endpoints'
import { compilePattern, matchEndpoint, normalizePath, type EndpointRow, type EndpointTable } from '../../src/providers/shared/endpoints'
import type { Classification, InboundRequest } from '../../src/providers/types'
import { listCassettes, loadCassette } from '../support/recordings'

function inbound(method: string, path: string, json?: Record<string, unknown>): InboundRequest {
  const body = json ? new TextEncoder().encode(JSON.stringify(json)) : null
  return { method, path, search: '', headers: new Headers({ 'content-type': 'application/json' }), body, json, gatewayBase: '' }
}

async function multipart(method: string, path: string, model: string): Promise<InboundRequest> {
  const f = new FormData()
  f.set('model', model)
  f.set('file', new Blob([new Uint8Array(8)]), 'a.wav')
  const r = new Response(f)
  return { method, path, search: '', headers: new Headers({ 'content-type': r.headers.get('content-type')! }), body: new Uint8Array(await r.arrayBuffer()), json: undefined, gatewayBase: '' }
}

/**
 * `METHOD path → operation class [model] [@kind/action] [+creates] [*lists] [^yields] [form]`: one case.
 * A POST, PUT or PATCH gets a JSON body naming the model (or a multipart one with `form`).
 */
type Case = string

const OPENAI: Case[] = [
  'POST chat/completions → chat metered gpt-4o-mini',
  'POST completions → text_completion metered gpt-3.5-turbo-instruct',
  'POST responses → responses metered gpt-4o-mini +response ^container',
  'POST responses/compact → responses metered gpt-4o-mini',
  'POST responses/input_tokens → count_tokens free gpt-4o-mini',
  'GET responses/resp_1 → responses object @response/read',
  'DELETE responses/resp_1 → responses object @response/delete',
  'GET responses/resp_1/input_items → responses object @response/read',
  'POST responses/resp_1/cancel → responses object @response/write',
  'POST embeddings → embeddings metered text-embedding-3-small',
  'POST moderations → moderations free omni-moderation-latest',
  'POST audio/transcriptions → audio metered whisper-1 form',
  'POST audio/translations → audio metered whisper-1 form',
  'POST audio/speech → audio metered gpt-4o-mini-tts',
  'POST images/generations → images metered gpt-image-1',
  'POST images/edits → images metered gpt-image-1 form',
  'POST images/variations → images metered dall-e-2 form',
  'GET models → models free',
  'GET models/ft:gpt-4o-mini:org::abc → models free',
  'POST files → files object +file',
  'GET files → files object *file',
  'GET files/file-1 → files object @file/read',
  'POST files/file-1 → files object @file/write',
  'DELETE files/file-1 → files object @file/delete',
  'GET files/file-1/content → files object @file/read',
  'POST uploads → uploads object +upload',
  'POST uploads/upload_1/parts → uploads object @upload/write',
  'POST uploads/upload_1/complete → uploads object @upload/write +file',
  'POST uploads/upload_1/cancel → uploads object @upload/write',
  'POST batches → batches object +batch',
  'GET batches → batches object *batch',
  'GET batches/batch_1 → batches object @batch/read',
  'POST batches/batch_1/cancel → batches object @batch/write',
  'POST vector_stores → vector_stores object +vector_store',
  'GET vector_stores → vector_stores object *vector_store',
  'GET vector_stores/vs_1 → vector_stores object @vector_store/read',
  'POST vector_stores/vs_1 → vector_stores object @vector_store/write',
  'DELETE vector_stores/vs_1 → vector_stores object @vector_store/delete',
  'GET vector_stores/vs_1/files/file-1 → vector_stores object @vector_store/read',
  'POST vector_stores/vs_1/file_batches → vector_stores object @vector_store/write',
  'DELETE vector_stores/vs_1/files/file-1 → vector_stores object @vector_store/delete',
  'POST conversations → conversations object +conversation',
  'GET conversations → conversations object *conversation',
  'GET conversations/conv_1 → conversations object @conversation/read',
  'POST conversations/conv_1 → conversations object @conversation/write',
  'DELETE conversations/conv_1 → conversations object @conversation/delete',
  'GET conversations/conv_1/items → conversations object @conversation/read',
  'POST conversations/conv_1/items → conversations object @conversation/write',
  'DELETE conversations/conv_1/items/item_1 → conversations object @conversation/delete',
  'POST containers → containers object +container',
  'GET containers → containers object *container',
  'GET containers/cntr_1 → containers object @container/read',
  'POST containers/cntr_1 → containers object @container/write',
  'DELETE containers/cntr_1 → containers object @container/delete',
  'GET containers/cntr_1/files/f_1/content → containers object @container/read',
  'POST containers/cntr_1/files → containers object @container/write',
  'DELETE containers/cntr_1/files/f_1 → containers object @container/delete',
  // Clients may keep a leading v1/ (the base URL already has it).
  'POST v1/chat/completions → chat metered gpt-4o-mini',
]

const ANTHROPIC: Case[] = [
  'POST v1/messages → chat metered claude-3-5-haiku-latest ^container',
  'POST v1/messages/count_tokens → count_tokens free claude-3-5-haiku-latest',
  'GET v1/models → models free',
  'GET v1/models/claude-3-5-haiku-latest → models free',
  'POST v1/messages/batches → batches metered claude-3-5-haiku-latest +message_batch',
  'GET v1/messages/batches → batches object *message_batch',
  'GET v1/messages/batches/msgbatch_1 → batches object @message_batch/read',
  'GET v1/messages/batches/msgbatch_1/results → batches object @message_batch/read',
  'POST v1/messages/batches/msgbatch_1/cancel → batches object @message_batch/write',
  'DELETE v1/messages/batches/msgbatch_1 → batches object @message_batch/delete',
  'POST v1/files → files object +file',
  'GET v1/files → files object *file',
  'GET v1/files/file_1 → files object @file/read',
  'GET v1/files/file_1/content → files object @file/read',
  'DELETE v1/files/file_1 → files object @file/delete',
]

const googleModel = (prefix: string): Case[] => [
  `POST ${prefix}gemini-2.0-flash:generateContent → chat metered gemini-2.0-flash`,
  `POST ${prefix}gemini-2.0-flash:streamGenerateContent → chat metered gemini-2.0-flash`,
  `POST ${prefix}gemini-2.0-flash:countTokens → count_tokens free gemini-2.0-flash`,
  `POST ${prefix}gemini-2.0-flash:computeTokens → count_tokens free gemini-2.0-flash`,
  `POST ${prefix}text-embedding-004:embedContent → embeddings metered text-embedding-004`,
  `POST ${prefix}text-embedding-004:batchEmbedContents → embeddings metered text-embedding-004`,
  `POST ${prefix}imagen-3.0-generate-002:predict → predict metered imagen-3.0-generate-002`,
]

const GEMINI: Case[] = [
  ...googleModel('v1beta/models/'),
  ...googleModel('v1beta/tunedModels/'),
  'GET v1beta/models → models free',
  'GET v1/models/gemini-2.0-flash → models free',
  'GET v1beta/files → files object *file',
  'GET v1beta/files/abc → files object @file/read',
  'DELETE v1beta/files/abc → files object @file/delete',
  'POST v1beta/cachedContents → cached_contents object models/gemini-2.0-flash +cached_content',
  'GET v1beta/cachedContents → cached_contents object *cached_content',
  'GET v1beta/cachedContents/c1 → cached_contents object @cached_content/read',
  'PATCH v1beta/cachedContents/c1 → cached_contents object @cached_content/write',
  'DELETE v1beta/cachedContents/c1 → cached_contents object @cached_content/delete',
  'POST upload/v1beta/files → upload object +file',
  'PUT upload/v1beta/files → upload free',
  'POST upload/v1beta/fileSearchStores/s1:uploadToFileSearchStore → upload object @file_search_store/write',
  'POST upload/v1beta/other/thing → upload free',
  'PUT upload/v1beta/files/abc → upload free',
  'POST v1beta/fileSearchStores → file_search_stores object +file_search_store',
  'GET v1beta/fileSearchStores → file_search_stores object *file_search_store',
  'GET v1beta/fileSearchStores/s1 → file_search_stores object @file_search_store/read',
  'DELETE v1beta/fileSearchStores/s1 → file_search_stores object @file_search_store/delete',
  'POST v1beta/fileSearchStores/s1:importFile → file_search_stores object @file_search_store/write',
  'GET v1beta/fileSearchStores/s1/documents/d1 → file_search_stores object @file_search_store/read',
  'POST v1beta/fileSearchStores/s1/documents/d1 → file_search_stores object @file_search_store/write',
  'POST upload/v1beta/files/abc → upload free',
  'GET v1beta/fileSearchStores/s1/documents → file_search_stores object @file_search_store/read',
  'POST v1beta/fileSearchStores/s1/documents/d1:query → file_search_stores object @file_search_store/write',
  'DELETE v1beta/fileSearchStores/s1/documents/d1 → file_search_stores object @file_search_store/write',
  'POST v1beta/models/gemini-2.0-flash:batchGenerateContent → batches object gemini-2.0-flash +batch',
  'GET v1beta/batches → batches object *batch',
  'GET v1beta/batches/b1 → batches object @batch/read',
  'POST v1beta/batches/b1:cancel → batches object @batch/write',
  'DELETE v1beta/batches/b1 → batches object @batch/delete',
  'GET v1beta/operations/op1 → operations free',
  'POST v1beta/openai/chat/completions → chat metered gemini-2.0-flash',
  'POST v1beta/openai/embeddings → embeddings metered text-embedding-004',
  'GET v1beta/openai/models → models free',
  'POST v1alpha/models/gemini-2.0-flash:generateContent → chat metered gemini-2.0-flash',
]

const VERTEX: Case[] = [
  ...googleModel('v1/projects/p/locations/us-central1/publishers/google/models/'),
  ...googleModel('v1beta1/publishers/google/models/'),
  'GET v1/publishers/google/models → models free',
  'GET v1beta1/publishers/google/models/gemini-2.0-flash → models free',
  'POST v1/projects/p/locations/us-east5/publishers/anthropic/models/count-tokens:rawPredict → count_tokens free claude-3-5-haiku@20241022',
  'POST v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-3-5-haiku@20241022:rawPredict → chat metered claude-3-5-haiku@20241022 ^container',
  'POST v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-3-5-haiku@20241022:streamRawPredict → chat metered claude-3-5-haiku@20241022 ^container',
  'POST v1/publishers/anthropic/models/count-tokens:rawPredict → count_tokens free claude-3-5-haiku@20241022',
  'POST v1/publishers/anthropic/models/claude-3-5-haiku@20241022:rawPredict → chat metered claude-3-5-haiku@20241022 ^container',
  'POST v1beta1/publishers/anthropic/models/claude-3-5-haiku@20241022:streamRawPredict → chat metered claude-3-5-haiku@20241022 ^container',
  'POST v1/messages → chat metered claude-3-5-haiku@20241022 ^container',
  'POST v1/messages/count_tokens → count_tokens free claude-3-5-haiku@20241022',
  // A path model is read as the upstream decodes it.
  'POST v1/publishers/anthropic/models/claude-3-5-haiku%4020241022:rawPredict → chat metered claude-3-5-haiku@20241022 ^container',
  // Cached contents and batch prediction jobs, with or without the client's project and location; a body's model is read as its id.
  ...['v1/projects/p/locations/us-central1/', 'v1beta1/'].flatMap((p) => [
    `POST ${p}cachedContents → cached_contents object gemini-2.0-flash +cached_content`,
    `GET ${p}cachedContents → cached_contents object *cached_content`,
    `GET ${p}cachedContents/123 → cached_contents object @cached_content/read`,
    `PATCH ${p}cachedContents/123 → cached_contents object @cached_content/write`,
    `DELETE ${p}cachedContents/123 → cached_contents object @cached_content/delete`,
    `POST ${p}batchPredictionJobs → batches object gemini-2.0-flash +batch`,
    `GET ${p}batchPredictionJobs → batches object *batch`,
    `GET ${p}batchPredictionJobs/456 → batches object @batch/read`,
    `POST ${p}batchPredictionJobs/456:cancel → batches object @batch/write`,
    `DELETE ${p}batchPredictionJobs/456 → batches object @batch/delete`,
  ]),
]

const BEDROCK: Case[] = [
  'POST model/amazon.nova-micro-v1%3A0/converse → chat metered amazon.nova-micro-v1:0',
  'POST model/amazon.nova-micro-v1:0/converse-stream → chat metered amazon.nova-micro-v1:0',
  'POST model/anthropic.claude-3-5-haiku-20241022-v1%3A0/invoke → chat metered anthropic.claude-3-5-haiku-20241022-v1:0 ^container',
  'POST model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Aapplication-inference-profile%2Fabc/invoke-with-response-stream → chat metered arn:aws:bedrock:us-east-1:123:application-inference-profile/abc',
  'POST model/amazon.nova-micro-v1%3A0/count-tokens → count_tokens free amazon.nova-micro-v1:0',
  'POST v1/messages → chat metered anthropic.claude-3-5-haiku-20241022-v1:0 ^container',
  'POST v1/messages/count_tokens → count_tokens free anthropic.claude-3-5-haiku-20241022-v1:0',
  // Asynchronous invocations (output to S3, billed per output the gateway never sees): refused.
  'POST async-invoke → async_invoke refused',
  'GET async-invoke → async_invoke refused',
  'GET async-invoke/arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Aasync-invoke%2Fabc → async_invoke refused',
]

interface Format {
  api: string
  classify: (r: InboundRequest) => Classification | undefined
  /** The tables whose rows the cases must cover, in the order classify consults them. */
  tables: EndpointTable[]
  /** The path as the tables see it (a format's own prefix handling). */
  tablePath?: (p: string) => string
  cases: Case[]
}

const FORMATS: Format[] = [
  { api: 'openai', classify: classifyOpenAi, tables: [OPENAI_ENDPOINTS], tablePath: (p) => p.replace(/^v1\//, ''), cases: OPENAI },
  { api: 'groq', classify: classifyGroq, tables: [GROQ_ENDPOINTS], cases: OPENAI.filter((c) => !/ v1\//.test(c)).map((c) => c.replace(/^(\w+) /, '$1 openai/v1/')) },
  { api: 'anthropic', classify: classifyAnthropic, tables: [ANTHROPIC_ENDPOINTS], cases: ANTHROPIC },
  { api: 'gemini', classify: classifyGemini, tables: [GEMINI_ENDPOINTS], cases: GEMINI },
  { api: 'google-vertex', classify: classifyVertex, tables: [VERTEX_ANTHROPIC_ENDPOINTS, VERTEX_ENDPOINTS, ANTHROPIC_ENDPOINTS], cases: VERTEX },
  { api: 'bedrock', classify: classifyBedrock, tables: [BEDROCK_ENDPOINTS, ANTHROPIC_ENDPOINTS], cases: BEDROCK },
  // The front door's model is the provider's own name it resolved from `route:model`; the body's stands in for it here.
  {
    api: 'front door',
    classify: (r) => classifyFrontDoor(r, String(r.json?.model)),
    tables: [FRONT_DOOR_ENDPOINTS],
    cases: ['POST chat/completions → chat metered gpt-4o-mini', 'POST embeddings → embeddings metered text-embedding-3-small'],
  },
]

interface Parsed {
  method: string
  path: string
  operation: string
  class: string
  model?: string
  object?: { kind: string; action: string }
  creates?: string
  yields?: string
  lists?: string
  form: boolean
}

function parse(c: Case): Parsed {
  const [lhs, rhs] = c.split(' → ') as [string, string]
  const [method, path] = lhs.split(' ') as [string, string]
  const [operation, cls, ...rest] = rhs.split(' ')
  const p: Parsed = { method, path, operation: operation!, class: cls!, form: false }
  for (const t of rest) {
    if (t === 'form') p.form = true
    else if (t.startsWith('@')) {
      const [kind, action] = t.slice(1).split('/') as [string, string]
      p.object = { kind, action }
    } else if (t.startsWith('+')) p.creates = t.slice(1)
    else if (t.startsWith('*')) p.lists = t.slice(1)
    else if (t.startsWith('^')) p.yields = t.slice(1)
    else p.model = t
  }
  return p
}

async function request(f: Format, p: Parsed): Promise<InboundRequest> {
  if (p.form) return multipart(p.method, p.path, p.model!)
  if (p.method === 'GET' || p.method === 'DELETE') return inbound(p.method, p.path)
  const model = p.model ?? 'gpt-4o-mini'
  if (f.api === 'anthropic' && p.creates === 'message_batch') return inbound(p.method, p.path, { requests: [{ custom_id: 'a', params: { model, max_tokens: 10, messages: [] } }] })
  return inbound(p.method, p.path, { model, max_tokens: 10 })
}

/** The row a case reaches: the first table (in classify's order) with a matching row. */
function rowOf(f: Format, p: Parsed): EndpointRow | undefined {
  const path = normalizePath((f.tablePath ?? ((x) => x))(p.path))
  // Vertex and Bedrock take Anthropic's own format at v1/messages, and only there.
  const nested = f.api === 'google-vertex' || f.api === 'bedrock'
  const inAnthropicFormat = nested && /^v1\/messages/.test(path)
  for (const t of f.tables) {
    if (nested && inAnthropicFormat !== (t === ANTHROPIC_ENDPOINTS)) continue
    const m = matchEndpoint(t, p.method, path)
    if (m) return m.row
  }
  return undefined
}

for (const f of FORMATS) {
  describe(`${f.api}: every case through the table`, () => {
    for (const c of f.cases) {
      test(c, async () => {
        const p = parse(c)
        const got = f.classify(await request(f, p))
        expect(got).toBeDefined()
        expect(got!.operation).toBe(p.operation)
        expect(got!.class).toBe(p.class as Classification['class'])
        expect(got!.model).toBe(p.model)
        if (p.object) expect(got!.object).toMatchObject(p.object)
        else expect(got!.object).toBeUndefined()
        expect(got!.creates).toBe(p.creates as never)
        expect(got!.lists).toBe(p.lists as never)
        expect(got!.yields).toBe(p.yields as never)
      })
    }
  })
  test(`${f.api}: every table row has a case`, () => {
    const reached = new Set(f.cases.map((c) => rowOf(f, parse(c))))
    const own = f.tables.filter((t) => t !== ANTHROPIC_ENDPOINTS || f.api === 'anthropic')
    const missing = own.flatMap((t) => t.rows.filter((r) => !reached.has(r)).map((r) => `${r.method} ${r.path}`))
    expect(missing).toEqual([])
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
  test('a path no row matches, or an unknown Gemini version, classifies as nothing (default deny)', () => {
    expect(classifyOpenAi(inbound('POST', 'chat/completions/extra', {}))).toBeUndefined()
    expect(classifyGemini(inbound('POST', 'v2/models/gemini-2.0-flash:generateContent', {}))).toBeUndefined()
    expect(classifyVertex(inbound('POST', 'v2/publishers/google/models/gemini-2.0-flash:generateContent', {}))).toBeUndefined()
    expect(classifyBedrock(inbound('POST', 'model/x/unknown', {}))).toBeUndefined()
  })
  test('a path model that decodes to more than one segment, or to bad escapes, is a 400', () => {
    for (const m of ['gemini-2.0-flash%2F..%2Fgemini-2.5-pro', 'gemini%5C2.0', '%2E%2E', 'gemini%252F', 'gemini%E0%A4%A']) {
      expect(() => classifyGemini(inbound('POST', `v1beta/models/${m}:generateContent`, {}))).toThrow(/model:/)
    }
  })
  test('one output bound per format, with one precedence, times the choices', () => {
    expect(classifyOpenAi(inbound('POST', 'chat/completions', { model: 'gpt-4o-mini', max_tokens: 10, max_completion_tokens: 20, n: 3 }))!.maxOutputTokens).toBe(60)
    expect(classifyGemini(inbound('POST', 'v1beta/models/gemini-2.0-flash:generateContent', { generationConfig: { maxOutputTokens: 7, candidateCount: 2 } }))!.maxOutputTokens).toBe(14)
    expect(classifyBedrock(inbound('POST', 'model/amazon.nova-lite-v1%3A0/converse', { inferenceConfig: { maxTokens: 9 } }))!).toMatchObject({ model: 'amazon.nova-lite-v1:0', maxOutputTokens: 9 })
    // Claude on Vertex sends Anthropic's body: Anthropic's bound, not Google's.
    expect(classifyVertex(inbound('POST', 'v1/projects/p/locations/l/publishers/anthropic/models/claude-3-5-haiku@20241022:rawPredict', { max_tokens: 11 }))!.maxOutputTokens).toBe(11)
  })
})

describe('context by reference', () => {
  const openai = (json: Record<string, unknown>) => classifyOpenAi(inbound('POST', 'responses', { model: 'gpt-4o-mini', ...json }))!.contextByReference
  const chat = (json: Record<string, unknown>) => classifyOpenAi(inbound('POST', 'chat/completions', { model: 'gpt-4o-mini', ...json }))!.contextByReference
  const claude = (json: Record<string, unknown>) => classifyAnthropic(inbound('POST', 'v1/messages', { model: 'claude-3-5-haiku-latest', ...json }))!.contextByReference
  const google = (json: Record<string, unknown>) => classifyGemini(inbound('POST', 'v1beta/models/gemini-2.0-flash:generateContent', json))!.contextByReference
  const bedrock = (json: Record<string, unknown>) => classifyBedrock(inbound('POST', 'model/amazon.nova-lite-v1%3A0/converse', json))!.contextByReference
  const user = (content: unknown[]) => [{ role: 'user', content }]

  test('OpenAI and Groq: stored responses, conversations, prompts, files, stored items, server-side tools', () => {
    expect(openai({ previous_response_id: 'resp_1', input: 'hi' })).toBe(true)
    expect(openai({ conversation: 'conv_1', input: 'hi' })).toBe(true)
    expect(openai({ prompt: { id: 'pmpt_1' } })).toBe(true)
    expect(openai({ input: user([{ type: 'input_file', file_id: 'file-1' }]) })).toBe(true)
    expect(openai({ input: user([{ type: 'input_file', file_url: 'https://example.com/a.pdf' }]) })).toBe(true)
    expect(openai({ input: [{ type: 'item_reference', id: 'msg_1' }] })).toBe(true)
    for (const type of ['file_search', 'code_interpreter', 'mcp', 'web_search', 'web_search_preview', 'image_generation']) expect(openai({ input: 'hi', tools: [{ type }] })).toBe(true)
    expect(chat({ messages: user([{ type: 'file', file: { file_id: 'file-1' } }]) })).toBe(true)
    expect(classifyGroq(inbound('POST', 'openai/v1/chat/completions', { model: 'openai/gpt-oss-20b', messages: [], tools: [{ type: 'browser_search' }] }))!.contextByReference).toBe(true)
    // Everything in the body: nothing by reference.
    expect(chat({ messages: user([{ type: 'text', text: 'hi' }]), tools: [{ type: 'function', function: { name: 'f' } }] })).toBeUndefined()
    expect(openai({ input: 'hi' })).toBeUndefined()
    // Text that only mentions the field names is not a reference; a nesting too deep to walk is taken as one (fail closed).
    expect(chat({ messages: user([{ type: 'text', text: '{"file_id": "file-1", "type": "item_reference"}' }]) })).toBeUndefined()
    let deep: unknown = { type: 'text', text: 'hi' }
    for (let i = 0; i < 100; i++) deep = { nested: [deep] }
    expect(chat({ messages: user([deep]) })).toBe(true)
  })
  test('Anthropic: file and URL documents, container uploads, containers, MCP servers, server tools', () => {
    expect(claude({ messages: user([{ type: 'document', source: { type: 'file', file_id: 'f' } }]) })).toBe(true)
    expect(claude({ messages: user([{ type: 'image', source: { type: 'file', file_id: 'f' } }]) })).toBe(true)
    expect(claude({ messages: user([{ type: 'document', source: { type: 'url', url: 'https://example.com/a.pdf' } }]) })).toBe(true)
    expect(claude({ messages: user([{ type: 'container_upload', file_id: 'f' }]) })).toBe(true)
    expect(claude({ messages: [], container: 'container_1' })).toBe(true)
    expect(claude({ messages: [], mcp_servers: [{ type: 'url', url: 'https://mcp.example.com' }] })).toBe(true)
    for (const type of ['web_search_20250305', 'web_fetch_20250910', 'code_execution_20250825']) expect(claude({ messages: [], tools: [{ type, name: 'x' }] })).toBe(true)
    // Inline content and client tools stay in the body.
    expect(claude({ messages: user([{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }, { type: 'text', text: 'hi' }]), tools: [{ name: 'f', input_schema: {} }, { type: 'bash_20250124', name: 'bash' }] })).toBeUndefined()
    expect(classifyVertex(inbound('POST', 'v1/publishers/anthropic/models/claude-3-5-haiku@20241022:rawPredict', { messages: user([{ type: 'document', source: { type: 'file', file_id: 'f' } }]) }))!.contextByReference).toBe(true)
  })
  test('Gemini and Vertex: cached contents, file data, every server-side tool', () => {
    expect(google({ cachedContent: 'cachedContents/x' })).toBe(true)
    expect(google({ contents: [{ parts: [{ fileData: { fileUri: 'u' } }] }] })).toBe(true)
    expect(google({ contents: [], systemInstruction: { parts: [{ fileData: { fileUri: 'u' } }] } })).toBe(true)
    for (const tool of [{ googleSearch: {} }, { urlContext: {} }, { fileSearch: { fileSearchStoreNames: ['s'] } }, { codeExecution: {} }, { retrieval: { vertexRagStore: {} } }]) expect(google({ contents: [], tools: [tool] })).toBe(true)
    expect(google({ contents: [{ parts: [{ text: 'hi' }] }], tools: [{ functionDeclarations: [{ name: 'f' }] }] })).toBeUndefined()
    // Gemini's OpenAI-compatible rows: a function tool is the client's.
    expect(classifyGemini(inbound('POST', 'v1beta/openai/chat/completions', { model: 'gemini-2.0-flash', messages: [], tools: [{ type: 'function', function: { name: 'f' } }] }))!.contextByReference).toBeUndefined()
    expect(classifyVertex(inbound('POST', 'v1beta1/publishers/google/models/gemini-2.0-flash:generateContent', { cachedContent: 'projects/p/cachedContents/x' }))!.contextByReference).toBe(true)
  })
  test('Bedrock: documents and media in S3, prompt templates', () => {
    expect(bedrock({ messages: user([{ document: { name: 'd', format: 'pdf', source: { s3Location: { uri: 's3://b/k' } } } }]) })).toBe(true)
    expect(bedrock({ promptVariables: { topic: { text: 'x' } } })).toBe(true)
    expect(bedrock({ messages: user([{ text: 'hi' }]) })).toBeUndefined()
  })
})

/** What a recorded request must classify as, read from its own path: independent of the tables. */
function expected(method: string, path: string): { operation: string; class: string } | undefined {
  const p = path.replace(/^\//, '')
  const rules: [RegExp, string, string][] = [
    [/^POST (openai\/)?v1\/chat\/completions$/, 'chat', 'metered'],
    [/^POST v1beta\/openai\/chat\/completions$/, 'chat', 'metered'],
    [/^POST v1\/responses$/, 'responses', 'metered'],
    [/^POST v1\/responses\/compact$/, 'responses', 'metered'],
    [/^POST v1\/responses\/input_tokens$/, 'count_tokens', 'free'],
    [/^GET v1\/responses\/[^/]+$/, 'responses', 'object'],
    [/^POST v1\/messages$/, 'chat', 'metered'],
    [/^POST v1\/messages\/count_tokens$/, 'count_tokens', 'free'],
    [/:(generateContent|streamGenerateContent)$/, 'chat', 'metered'],
    [/:countTokens$/, 'count_tokens', 'free'],
    [/^POST model\/[^/]+\/(converse|converse-stream|invoke|invoke-with-response-stream)$/, 'chat', 'metered'],
    [/^POST model\/[^/]+\/count-tokens$/, 'count_tokens', 'free'],
    [/^(POST|DELETE) v1\/conversations(\/[^/]+)?$/, 'conversations', 'object'],
    [/^(POST|DELETE) v1\/files(\/[^/]+)?$/, 'files', 'object'],
    [/^(POST|DELETE) v1\/vector_stores(\/.+)?$/, 'vector_stores', 'object'],
    [/^POST upload\/v1beta\/fileSearchStores\/[^/]+:uploadToFileSearchStore$/, 'upload', 'object'],
    [/^POST upload\/v1beta\/fileSearchStores\//, 'upload', 'object'],
    [/^POST upload\/v1beta\//, 'upload', 'free'],
    [/^(POST|DELETE|GET) v1beta\/fileSearchStores/, 'file_search_stores', 'object'],
  ]
  const line = `${method} ${p}`
  for (const [re, operation, cls] of rules) if (re.test(line)) return { operation, class: cls }
  return undefined
}

const BY_HOST: [RegExp, (r: InboundRequest) => Classification | undefined][] = [
  [/^api\.openai\.com$/, classifyOpenAi],
  [/^api\.groq\.com$/, classifyGroq],
  [/^api\.anthropic\.com$/, classifyAnthropic],
  [/^generativelanguage\.googleapis\.com$/, classifyGemini],
  [/aiplatform\.googleapis\.com$/, classifyVertex],
  [/^bedrock-runtime\./, classifyBedrock],
]

describe('every recorded request goes through its table to the operation, class and model it names', () => {
  for (const folder of ['openai', 'openai_responses', 'anthropic', 'groq', 'google', 'bedrock']) {
    test(folder, async () => {
      let n = 0
      for (const name of listCassettes(folder)) {
        for (const i of (await loadCassette(folder, name)).interactions) {
          const classify = BY_HOST.find(([re]) => re.test(i.host))?.[1]
          if (!classify) continue // media the test fetched from elsewhere (images, PDFs)
          const json = i.requestBody && typeof i.requestBody === 'object' ? (i.requestBody as Record<string, unknown>) : undefined
          const c = classify(inbound(i.method, i.path.replace(/^\//, ''), json))
          const where = `${folder}/${name}: ${i.method} ${i.path}`
          if (!c) throw new Error(`${where} matched no row`)
          const want = expected(i.method, i.path)
          if (!want) throw new Error(`${where}: no expectation for this path`)
          expect({ where, operation: c.operation, class: c.class as string }).toEqual({ where, ...want })
          // The model: the body's, else the path's (Bedrock's decoded).
          const pathModel = /models\/([^/:]+):/.exec(i.path)?.[1] ?? (/^\/model\/([^/]+)\//.exec(i.path)?.[1] ? decodeURIComponent(/^\/model\/([^/]+)\//.exec(i.path)![1]!) : undefined)
          const model = typeof json?.model === 'string' && !/:(generateContent|streamGenerateContent|countTokens)$/.test(i.path) ? json.model : pathModel
          if (c.class === 'metered') expect({ where, model: c.model }).toEqual({ where, model })
          n++
        }
      }
      expect(n).toBeGreaterThan(0)
    })
  }
})
