/**
 * The formats' object readers, no HTTP: ids and lifetimes read from creation answers (recorded
 * ones where the recordings have them), list filtering with its cursors, the ids a body names,
 * and the hooks' fail-closed answer to a list they cannot read.
 */
import { describe, expect, test } from 'bun:test'
import { anthropicObjects } from '../../src/providers/anthropic/objects'
import { geminiObjects } from '../../src/providers/gemini/objects'
import { openAiObjects } from '../../src/providers/openai/objects'
import { groqObjects } from '../../src/providers/groq/objects'
import { vertexObjects } from '../../src/providers/google-vertex/objects'
import { bedrockObjects } from '../../src/providers/bedrock/objects'
import { ObjectGuard } from '../../src/objects/guard'
import { ObjectStore } from '../../src/objects/store'
import type { Exchange } from '../../src/proxy/exchange'
import type { Db } from '../../src/db/client'
import { loadCassette } from '../support/recordings'

const NOW = 1_800_000_000_000
const DAY = 86_400_000

describe('OpenAI (and Groq)', () => {
  test('the recorded file, vector store and streamed response are read with their ids', async () => {
    const c = await loadCassette('openai_responses', 'test_openai_responses_model_file_search_tool_stream')
    const file = c.interactions.find((i) => i.method === 'POST' && i.path === '/v1/files')!.responseJson
    const store = c.interactions.find((i) => i.method === 'POST' && i.path === '/v1/vector_stores')!.responseJson
    expect(openAiObjects.createdObject('file', file, NOW)).toEqual({ id: 'file-9RhPAs9YqVajpGXRfcgavJ', expiresAt: undefined })
    expect(openAiObjects.createdObject('vector_store', store, NOW)?.id).toBe('vs_6931d752e41c8191833fcaad1cf47055')
    // Another kind's answer is not this kind's object.
    expect(openAiObjects.createdObject('batch', file, NOW)).toBeUndefined()
    const sse = new TextDecoder().decode(c.interactions.find((i) => i.path === '/v1/responses')!.responseBody)
    const created = /event: response.created\ndata: (.*)\n/.exec(sse)![1]!
    expect(openAiObjects.streamedObject!('response', 'response.created', created, NOW)).toEqual({ id: 'resp_006dcb10dc68b990006931d756c6fc819ba28a90e19a504ee0', expiresAt: NOW + 30 * DAY })
    expect(openAiObjects.streamedObject!('response', 'response.in_progress', created, NOW)).toBeUndefined()
    expect(groqObjects).toBe(openAiObjects)
  })

  test("a batch is kept (its expires_at is a deadline); its output files are the owner's; an upload's file too", () => {
    expect(openAiObjects.createdObject('batch', { id: 'batch_1', object: 'batch', expires_at: 1_700_000_000 }, NOW)).toEqual({ id: 'batch_1' })
    expect(openAiObjects.relatedObjects!('batch', { id: 'batch_1', object: 'batch', output_file_id: 'file-out', error_file_id: 'file-err' }, NOW).map((r) => r.object.id)).toEqual(['file-out', 'file-err'])
    expect(openAiObjects.relatedObjects!('upload', { id: 'upload_1', object: 'upload', status: 'completed', file: { id: 'file-up', object: 'file' } }, NOW)).toEqual([{ kind: 'file', object: { id: 'file-up', expiresAt: undefined } }])
    expect(openAiObjects.createdObject('upload', { id: 'upload_1', object: 'upload', expires_at: 1_800_003_600 }, NOW)).toEqual({ id: 'upload_1', expiresAt: 1_800_003_600_000 })
  })

  test('lists keep only accepted items, cursors as sent', () => {
    const list = { object: 'list', data: [{ id: 'file-a' }, { id: 'file-b' }], first_id: 'file-a', last_id: 'file-b', has_more: true }
    expect(openAiObjects.filterList('file', list, (id) => id === 'file-a')).toEqual({ ...list, data: [{ id: 'file-a' }] })
    expect(openAiObjects.filterList('file', { data: [] }, () => true)).toBeUndefined()
  })

  test('every id a body names', () => {
    const refs = openAiObjects.references!({
      previous_response_id: 'resp_1',
      conversation: { id: 'conv_1' },
      input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-in' }] }],
      tools: [
        { type: 'file_search', vector_store_ids: ['vs_1'] },
        { type: 'code_interpreter', container: { type: 'auto', file_ids: ['file-c'] } },
        { type: 'code_interpreter', container: 'cntr_1' },
      ],
    })
    expect(refs).toEqual([
      { kind: 'response', id: 'resp_1' },
      { kind: 'conversation', id: 'conv_1' },
      { kind: 'file', id: 'file-in' },
      { kind: 'vector_store', id: 'vs_1' },
      { kind: 'file', id: 'file-c' },
      { kind: 'container', id: 'cntr_1' },
    ])
    expect(openAiObjects.references!({ input_file_id: 'file-batch', endpoint: '/v1/chat/completions' })).toEqual([{ kind: 'file', id: 'file-batch' }])
    expect(openAiObjects.references!({ file_ids: ['f1', 'f2'] }).map((r) => r.id)).toEqual(['f1', 'f2'])
    expect(openAiObjects.references!({ conversation: 'conv_2', messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-chat' } }] }] })).toEqual([
      { kind: 'conversation', id: 'conv_2' },
      { kind: 'file', id: 'file-chat' },
    ])
    // Padding does not hide an id: the walk has no depth cap.
    let deep: unknown = { file_id: 'file-deep' }
    for (let i = 0; i < 5000; i++) deep = [deep]
    expect(openAiObjects.references!({ input: deep })).toEqual([{ kind: 'file', id: 'file-deep' }])
  })
})

describe('Anthropic', () => {
  test('batches expire 29 days after creation; files are kept; file blocks are references', () => {
    const created = '2026-12-01T00:00:00Z'
    expect(anthropicObjects.createdObject('message_batch', { id: 'msgbatch_1', type: 'message_batch', created_at: created }, NOW)).toEqual({ id: 'msgbatch_1', expiresAt: Date.parse(created) + 29 * DAY })
    expect(anthropicObjects.createdObject('file', { id: 'file_1', type: 'file' }, NOW)).toEqual({ id: 'file_1' })
    expect(anthropicObjects.createdObject('file', { id: 'msgbatch_1', type: 'message_batch' }, NOW)).toBeUndefined()
    const doc = { type: 'document', source: { type: 'file', file_id: 'file_doc' } }
    expect(anthropicObjects.references!({ messages: [{ role: 'user', content: [doc] }] })).toEqual([{ kind: 'file', id: 'file_doc' }])
    expect(anthropicObjects.references!({ requests: [{ custom_id: 'a', params: { messages: [{ role: 'user', content: [doc] }] } }] })).toEqual([{ kind: 'file', id: 'file_doc' }])
    expect(anthropicObjects.filterList('file', { data: [{ id: 'a' }, { id: 'b' }], has_more: false, first_id: 'a', last_id: 'b' }, (id) => id === 'b')).toEqual({ data: [{ id: 'b' }], has_more: false, first_id: 'a', last_id: 'b' })
  })
})

describe('containers (made beside a model call)', () => {
  test("Anthropic: a message's container, JSON and streamed, with its expiry; reuse by id, in a message or a batch's requests", async () => {
    const reuse = (await loadCassette('anthropic', 'test_anthropic_code_execution_tool_container_reuse')).interactions
    const answer = reuse[0]!.responseJson as { container: { id: string; expires_at: string } }
    // The answer's expiry, or an hour from the answer when that is later (a clock ahead of Anthropic's refuses no owner).
    const at = Date.parse(answer.container.expires_at)
    expect(anthropicObjects.yielded!('container', answer, at - 2 * 3_600_000)).toEqual([{ id: answer.container.id, expiresAt: at }])
    expect(anthropicObjects.yielded!('container', answer, at + 60_000)).toEqual([{ id: answer.container.id, expiresAt: at + 60_000 + 3_600_000 }])
    expect(anthropicObjects.yielded!('container', { id: 'msg_1', type: 'message', container: null }, NOW)).toEqual([])
    // The recorded second request reuses the first answer's container.
    expect(anthropicObjects.references!(reuse[1]!.requestBody as Record<string, unknown>)).toContainEqual({ kind: 'container', id: answer.container.id })
    expect(anthropicObjects.references!({ container: { id: 'container_x', skills: [] } })).toEqual([{ kind: 'container', id: 'container_x' }])
    expect(anthropicObjects.references!({ container: { skills: [{ type: 'anthropic', skill_id: 'pptx' }] } })).toEqual([])
    expect(anthropicObjects.references!({ requests: [{ custom_id: 'a', params: { container: 'container_y' } }] })).toEqual([{ kind: 'container', id: 'container_y' }])
    const delta = '{"type":"message_delta","delta":{"stop_reason":"end_turn","container":{"id":"container_s","expires_at":"2026-12-07T11:00:00Z"}},"usage":{"output_tokens":3}}'
    expect(anthropicObjects.streamYielded!('container', 'message_delta', delta, Date.parse('2026-12-07T08:00:00Z'))).toEqual([{ id: 'container_s', expiresAt: Date.parse('2026-12-07T11:00:00Z') }])
    expect(anthropicObjects.streamYielded!('container', 'content_block_delta', delta, NOW)).toEqual([])
    // Bedrock and Vertex read Anthropic bodies' containers, and nothing else of Anthropic's.
    expect(bedrockObjects.references!({ container: 'container_b', messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'file', file_id: 'f' } }] }] })).toEqual([{ kind: 'container', id: 'container_b' }])
    expect(vertexObjects.references!({ container: 'container_v' })).toEqual([{ kind: 'container', id: 'container_v' }])
  })

  test('OpenAI: created containers and those a code interpreter ran in (JSON and the recorded stream) are kept 30 days from last seen', async () => {
    expect(openAiObjects.createdObject('container', { id: 'cntr_1', object: 'container', expires_after: { anchor: 'last_active_at', minutes: 20 } }, NOW)).toEqual({ id: 'cntr_1', expiresAt: NOW + 30 * DAY })
    expect(openAiObjects.yielded!('container', { object: 'response', output: [{ type: 'code_interpreter_call', container_id: 'cntr_2' }, { type: 'message' }] }, NOW)).toEqual([{ id: 'cntr_2', expiresAt: NOW + 30 * DAY }])
    const stream = (await loadCassette('openai_responses', 'test_openai_responses_thinking_with_code_execution_tool_stream')).interactions.find((i) => i.path === '/v1/responses')!
    const found = new Set<string>()
    for (const block of new TextDecoder().decode(stream.responseBody).split('\n\n')) {
      const name = /^event: (.+)$/m.exec(block)?.[1]
      const data = /^data: (.+)$/m.exec(block)?.[1]
      if (data) for (const c of openAiObjects.streamYielded!('container', name, data, NOW)) found.add(c.id)
    }
    expect([...found]).toEqual(['cntr_68c3509aa0348191ad0bfefe24878dbb0deaa35a4e39052e'])
  })
})

describe('Vertex AI', () => {
  test('full resource names: cached contents (expireTime) and batch prediction jobs (kept); lists; cachedContent in a body', () => {
    const name = 'projects/845631297043/locations/us-central1/cachedContents/4321'
    expect(vertexObjects.createdObject('cached_content', { name, expireTime: '2026-12-07T12:00:00Z' }, NOW)).toEqual({ id: '4321', expiresAt: Date.parse('2026-12-07T12:00:00Z') })
    expect(vertexObjects.createdObject('batch', { name: 'projects/1/locations/global/batchPredictionJobs/99', state: 'JOB_STATE_PENDING' }, NOW)).toEqual({ id: '99' })
    expect(vertexObjects.createdObject('cached_content', { name: 'projects/1/locations/global/batchPredictionJobs/99' }, NOW)).toBeUndefined()
    for (const spelling of [name, 'cachedContents/4321', '4321']) expect(vertexObjects.canonicalId!('cached_content', spelling)).toBe('4321')
    expect(vertexObjects.references!({ contents: [], cachedContent: name })).toEqual([{ kind: 'cached_content', id: name }])
    const list = { cachedContents: [{ name }, { name: 'projects/1/locations/global/cachedContents/5' }], nextPageToken: 't' }
    expect(vertexObjects.filterList('cached_content', list, (id) => id === '5')).toEqual({ cachedContents: [{ name: 'projects/1/locations/global/cachedContents/5' }], nextPageToken: 't' })
    expect(vertexObjects.filterList('batch', {}, () => true)).toEqual({})
    expect(vertexObjects.filterList('batch', { somethingElse: [] }, () => true)).toBeUndefined()
  })
})

describe('Gemini', () => {
  test('resource names: files (48 h or expirationTime), cached contents, batches and their results file, file search stores', async () => {
    const g = await loadCassette('google', 'test_google_model_file_search_grounding_gemini_3[False]')
    const store = g.interactions.find((i) => i.method === 'POST' && i.path === '/v1beta/fileSearchStores')!.responseJson
    expect(geminiObjects.createdObject('file_search_store', store, NOW)).toEqual({ id: 'testfilesearchgrounding-su9hjfq28i0f' })
    expect(geminiObjects.createdObject('file', { file: { name: 'files/abc', expirationTime: '2027-01-01T00:00:00Z' } }, NOW)).toEqual({ id: 'abc', expiresAt: Date.parse('2027-01-01T00:00:00Z') })
    expect(geminiObjects.createdObject('file', { name: 'files/abc' }, NOW)).toEqual({ id: 'abc', expiresAt: NOW + 2 * DAY })
    expect(geminiObjects.createdObject('cached_content', { name: 'cachedContents/c1', expireTime: '2027-01-01T01:00:00Z' }, NOW)?.expiresAt).toBe(Date.parse('2027-01-01T01:00:00Z'))
    expect(geminiObjects.createdObject('batch', { name: 'batches/b1', metadata: { state: 'BATCH_STATE_PENDING' } }, NOW)).toEqual({ id: 'b1' })
    // An operation under a store is not the store.
    expect(geminiObjects.createdObject('file_search_store', { name: 'fileSearchStores/s/upload/operations/o' }, NOW)).toBeUndefined()
    expect(geminiObjects.relatedObjects!('batch', { name: 'batches/b1', metadata: { output: { responsesFile: 'files/batch-b1-out' } } }, NOW)).toEqual([{ kind: 'file', object: { id: 'batch-b1-out', expiresAt: NOW + 2 * DAY } }])
    expect(geminiObjects.canonicalId!('file', 'files/abc')).toBe('abc')
  })

  test('lists: filtered by name; an empty list may be {}; any other shape is not a list', () => {
    expect(geminiObjects.filterList('file', { files: [{ name: 'files/a' }, { name: 'files/b' }], nextPageToken: 't' }, (id) => id === 'a')).toEqual({ files: [{ name: 'files/a' }], nextPageToken: 't' })
    expect(geminiObjects.filterList('batch', { operations: [{ name: 'batches/x' }] }, () => false)).toEqual({ operations: [] })
    expect(geminiObjects.filterList('file', {}, () => true)).toEqual({})
    expect(geminiObjects.filterList('file', { nextPageToken: 't' }, () => true)).toEqual({ nextPageToken: 't' })
    expect(geminiObjects.filterList('file', { items: [{ name: 'files/a' }] }, () => true)).toBeUndefined()
  })

  test('references: cachedContent, file URIs (Gemini API ones only), batch input files, file search stores', () => {
    expect(
      geminiObjects.references!({
        cachedContent: 'cachedContents/c1',
        contents: [{ parts: [{ fileData: { fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/abc', mimeType: 'text/plain' } }, { fileData: { fileUri: 'gs://bucket/x.pdf' } }, { file_data: { file_uri: 'files/def' } }] }],
        tools: [{ fileSearch: { fileSearchStoreNames: ['fileSearchStores/s1'] } }],
      }),
    ).toEqual([
      { kind: 'cached_content', id: 'cachedContents/c1' },
      { kind: 'file', id: 'def' },
      { kind: 'file', id: 'abc' },
      { kind: 'file_search_store', id: 'fileSearchStores/s1' },
    ])
    expect(geminiObjects.references!({ batch: { input_config: { file_name: 'files/in' } } })).toEqual([{ kind: 'file', id: 'in' }])
  })
})

describe('the list answer, fail closed', () => {
  const store = new ObjectStore({} as Db, { insert() {} })
  const hooks = new ObjectGuard(store)
  const ctx = (api: 'openai' | 'gemini'): Exchange =>
    ({
      classification: { operation: 'files', class: 'object', stream: false, lists: 'file' },
      key: { project: 'a' },
      inbound: { json: undefined },
      target: { provider: { id: api }, api: { objects: api === 'openai' ? openAiObjects : geminiObjects } },
    }) as unknown as Exchange
  const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v))
  const dec = (b: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(b))

  test('a 2xx list answer the format cannot read becomes an empty list, never the unfiltered bytes', async () => {
    store.owned = async () => new Set(['file-a'])
    for (const [api, body, want] of [
      ['openai', { data: [{ id: 'file-b' }] }, { object: 'list', data: [], has_more: false }],
      ['openai', 'not json', { object: 'list', data: [], has_more: false }],
      ['gemini', { items: [{ name: 'files/b' }] }, {}],
      ['openai', { object: 'list', data: [{ id: 'file-a' }, { id: 'file-b' }] }, { object: 'list', data: [{ id: 'file-a' }] }],
    ] as const) {
      const c = ctx(api)
      await hooks.check(c)
      expect(dec(hooks.rewrite(c, enc(body)))).toEqual(want)
    }
  })
})

/** What admit refused with, whether it threw at once (a cached answer) or later (a lookup). */
async function refusal(f: () => unknown): Promise<unknown> {
  try {
    await f()
  } catch (e) {
    return e
  }
  return undefined
}

describe('lookups', () => {
  /** A database whose primary-key lookups are counted and answer `rows` (or fail). */
  function fakeDb(rows: () => unknown[]) {
    let queries = 0
    const chain = { from: () => chain, where: () => chain, limit: async () => rows() }
    return { db: { select: () => (queries++, chain) } as unknown as Db, queries: () => queries }
  }
  const ctxFor = (id: string): Exchange =>
    ({
      classification: { operation: 'files', class: 'object', stream: false, object: { kind: 'file', id, action: 'read' } },
      key: { project: 'b' },
      inbound: { path: `files/${id}`, json: undefined },
      target: { provider: { id: 'openai' }, api: { objects: openAiObjects } },
    }) as unknown as Exchange

  test('an id not found is not asked of the database again for a moment', async () => {
    let t = NOW
    const fake = fakeDb(() => [])
    const store = new ObjectStore(fake.db, { insert() {} }, () => t)
    const hooks = new ObjectGuard(store)
    for (let i = 0; i < 5; i++) expect(await refusal(() => hooks.check(ctxFor('file-guess')))).toMatchObject({ status: 404 })
    expect(fake.queries()).toBe(1)
    t += 2_001
    expect(await refusal(() => hooks.check(ctxFor('file-guess')))).toMatchObject({ status: 404 })
    expect(fake.queries()).toBe(2)
    // Recorded here meanwhile: known at once, whatever the database said before.
    store.record('openai', 'file', 'file-late', 'b')
    expect(hooks.check(ctxFor('file-late'))).toBeUndefined()
  })

  test('ownership that cannot be read is a 503, never a guess', async () => {
    const fake = fakeDb(() => {
      throw new Error('database is down')
    })
    const hooks = new ObjectGuard(new ObjectStore(fake.db, { insert() {} }))
    const error = console.error
    console.error = () => {}
    try {
      expect(await refusal(() => hooks.check(ctxFor('file-x')))).toMatchObject({ status: 503, code: 'ownership_unavailable' })
    } finally {
      console.error = error
    }
  })
})
