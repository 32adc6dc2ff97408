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
import { ObjectHooks } from '../../src/objects/hooks'
import { ObjectStore } from '../../src/objects/store'
import type { ProxyContext } from '../../src/proxy/context'
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
  const hooks = new ObjectHooks(store)
  const ctx = (api: 'openai' | 'gemini'): ProxyContext =>
    ({
      classification: { operation: 'files', class: 'object', stream: false, lists: 'file' },
      key: { project: 'a' },
      inbound: { json: undefined },
      target: { provider: { id: api }, api: { objects: api === 'openai' ? openAiObjects : geminiObjects } },
    }) as unknown as ProxyContext
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
      await hooks.admit(c)
      expect(dec(hooks.respond(c, enc(body))?.body)).toEqual(want)
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
  const ctxFor = (id: string): ProxyContext =>
    ({
      classification: { operation: 'files', class: 'object', stream: false, object: { kind: 'file', id, action: 'read' } },
      key: { project: 'b' },
      inbound: { path: `files/${id}`, json: undefined },
      target: { provider: { id: 'openai' }, api: { objects: openAiObjects } },
    }) as unknown as ProxyContext

  test('an id not found is not asked of the database again for a moment', async () => {
    let t = NOW
    const fake = fakeDb(() => [])
    const store = new ObjectStore(fake.db, { insert() {} }, () => t)
    const hooks = new ObjectHooks(store)
    for (let i = 0; i < 5; i++) expect(await refusal(() => hooks.admit(ctxFor('file-guess')))).toMatchObject({ status: 404 })
    expect(fake.queries()).toBe(1)
    t += 2_001
    expect(await refusal(() => hooks.admit(ctxFor('file-guess')))).toMatchObject({ status: 404 })
    expect(fake.queries()).toBe(2)
    // Recorded here meanwhile: known at once, whatever the database said before.
    store.record('openai', 'file', 'file-late', 'b')
    expect(hooks.admit(ctxFor('file-late'))).toBeUndefined()
  })

  test('ownership that cannot be read is a 503, never a guess', async () => {
    const fake = fakeDb(() => {
      throw new Error('database is down')
    })
    const hooks = new ObjectHooks(new ObjectStore(fake.db, { insert() {} }))
    const error = console.error
    console.error = () => {}
    try {
      expect(await refusal(() => hooks.admit(ctxFor('file-x')))).toMatchObject({ status: 503, code: 'ownership_unavailable' })
    } finally {
      console.error = error
    }
  })
})
