/**
 * Provider-side objects stay in their project (issue 14 §4), with the official SDKs against a
 * local upstream that shares one account between every caller, as one provider credential does:
 * project A creates files, responses and batches; project B's key asking for them by id (in the
 * path or in a body) gets the format's native 404 and the upstream never hears of it; lists
 * answer only the caller's objects; A still reaches its own; `isolation = "none"` lets through.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import http from 'node:http'
import Anthropic, { toFile as anthropicFile } from '@anthropic-ai/sdk'
import { ApiError, GoogleGenAI } from '@google/genai'
import Groq from 'groq-sdk'
import OpenAI, { toFile } from 'openai'
import { startGateway, type TestGateway } from '../support/gateway'
import { KEY_A, KEY_B, objectsToml } from './config'
import { startObjectUpstream, type ObjectUpstream } from './upstream'


let upstream: ObjectUpstream
let gateway: TestGateway

beforeAll(async () => {
  upstream = await startObjectUpstream()
  gateway = await startGateway(objectsToml(upstream.url))
})
afterAll(async () => {
  await gateway?.stop()
  upstream?.stop()
})

/** Runs `f`, expects it to fail with a 404, and that the upstream got no call meanwhile. */
async function refusedUnseen(f: () => Promise<unknown>): Promise<unknown> {
  const before = upstream.total()
  let err: unknown
  try {
    await f()
  } catch (e) {
    err = e
  }
  expect(err).toBeDefined()
  expect((err as { status?: number }).status).toBe(404)
  expect(upstream.total()).toBe(before)
  return err
}

describe('OpenAI: files, responses, batches and lists', () => {
  const client = (key: string, route = 'openai') => new OpenAI({ apiKey: key, baseURL: `${gateway.url}/${route}`, maxRetries: 0 })

  test("B cannot read, download or delete A's file; A can; lists hold only the caller's files", async () => {
    const a = client(KEY_A)
    const b = client(KEY_B)
    const file = await a.files.create({ file: await toFile(Buffer.from('{"custom_id":"1"}\n'), 'in.jsonl'), purpose: 'batch' })
    expect(file.id).toStartWith('file-')
    const fileB = await b.files.create({ file: await toFile(Buffer.from('x'), 'b.jsonl'), purpose: 'batch' })

    const err = await refusedUnseen(() => b.files.retrieve(file.id))
    expect(err).toBeInstanceOf(OpenAI.NotFoundError)
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).message).toContain(file.id)
    await refusedUnseen(() => b.files.content(file.id))
    await refusedUnseen(() => b.files.delete(file.id))

    expect((await a.files.retrieve(file.id)).id).toBe(file.id)
    expect(await (await a.files.content(file.id)).text()).toBe(`contents of ${file.id}`)

    // The upstream lists both projects' files; each project sees its own.
    const listA = (await a.files.list()).data.map((f) => f.id)
    const listB = (await b.files.list()).data.map((f) => f.id)
    expect(listA).toContain(file.id)
    expect(listA).not.toContain(fileB.id)
    expect(listB).toEqual([fileB.id])

    await a.files.delete(file.id)
    // Deleted through the gateway: gone for its owner as well, without asking the upstream again.
    await refusedUnseen(() => a.files.retrieve(file.id))
  })

  test("B cannot read or delete A's response, nor continue it with previous_response_id", async () => {
    const a = client(KEY_A)
    const b = client(KEY_B)
    const resp = await a.responses.create({ model: 'gpt-4o-mini', input: 'Capital of France?' })
    expect(resp.id).toStartWith('resp_')
    await refusedUnseen(() => b.responses.retrieve(resp.id))
    await refusedUnseen(() => b.responses.delete(resp.id))
    // A body reference reads the stored conversation just the same.
    const err = await refusedUnseen(() => b.responses.create({ model: 'gpt-4o-mini', input: 'And Spain?', previous_response_id: resp.id }))
    expect((err as Error).message).toContain(resp.id)

    // Counting its tokens reads it too (a free endpoint).
    await refusedUnseen(() => b.responses.inputTokens.count({ model: 'gpt-4o-mini', previous_response_id: resp.id }))

    expect((await a.responses.retrieve(resp.id)).id).toBe(resp.id)
    const next = await a.responses.create({ model: 'gpt-4o-mini', input: 'And Spain?', previous_response_id: resp.id })
    expect(next.previous_response_id).toBe(resp.id)
  })

  test("B cannot create a batch over A's file, read, cancel or list A's batch", async () => {
    const a = client(KEY_A)
    const b = client(KEY_B)
    const input = await a.files.create({ file: await toFile(Buffer.from('{"custom_id":"1"}\n'), 'in.jsonl'), purpose: 'batch' })
    await refusedUnseen(() => b.batches.create({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h' }))
    const batch = await a.batches.create({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    expect(batch.id).toStartWith('batch_')
    await refusedUnseen(() => b.batches.retrieve(batch.id))
    await refusedUnseen(() => b.batches.cancel(batch.id))
    expect((await b.batches.list()).data).toEqual([])
    expect((await a.batches.list()).data.map((x) => x.id)).toEqual([batch.id])
    expect((await a.batches.cancel(batch.id)).status).toBe('cancelling')
  })

  test("a streamed response's id is recorded from its first event (the recorded stream)", async () => {
    const a = client(KEY_A)
    const stream = await a.responses.create({ model: 'gpt-4o', input: 'What is the capital of France?', tools: [], stream: true })
    let id = ''
    for await (const e of stream) if (e.type === 'response.created') id = e.response.id
    expect(id).toStartWith('resp_')
    await refusedUnseen(() => client(KEY_B).responses.retrieve(id))
    expect((await a.responses.retrieve(id)).id).toBe(id)
  })

  test("B cannot attach A's file to its vector store, nor search A's vector store", async () => {
    const a = client(KEY_A)
    const b = client(KEY_B)
    const file = await a.files.create({ file: await toFile(Buffer.from('Paris is the capital of France.'), 'doc.txt'), purpose: 'assistants' })
    const storeA = await a.vectorStores.create({ name: 'a-docs' })
    expect(storeA.id).toStartWith('vs_')
    await refusedUnseen(() => b.vectorStores.create({ name: 'b-docs', file_ids: [file.id] }))
    await refusedUnseen(() => b.vectorStores.retrieve(storeA.id))
    await refusedUnseen(() => b.vectorStores.files.create(storeA.id, { file_id: file.id }))
    await refusedUnseen(() => b.responses.create({ model: 'gpt-4o-mini', input: 'Capital?', tools: [{ type: 'file_search', vector_store_ids: [storeA.id] }] }))
    await refusedUnseen(() => b.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: file.id } }] }] }))
  })

  test("a path through B's own object cannot climb to A's: dot segments and encoded slashes", async () => {
    const a = client(KEY_A)
    const b = client(KEY_B)
    const file = await a.files.create({ file: await toFile(Buffer.from('x'), 'a.jsonl'), purpose: 'batch' })
    const own = await b.vectorStores.create({ name: 'b-docs' })
    const u = new URL(gateway.url)
    // Sent byte for byte (fetch would resolve the dots itself).
    const raw = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request({ host: u.hostname, port: u.port, path, headers: { authorization: `Bearer ${KEY_B}` } }, (res) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
        })
        req.on('error', reject)
        req.end()
      })
    for (const path of [
      `/openai/vector_stores/${own.id}/../../files/${file.id}`,
      `/openai/vector_stores/${own.id}/%2e%2e/%2E%2E/files/${file.id}/content`,
      `/openai/vector_stores/${own.id}/files/..%2F..%2F..%2Ffiles%2F${file.id}`,
      `/openai/vector_stores/${own.id}/files/..%5C..%5Cfiles%5C${file.id}`,
    ]) {
      const before = upstream.total()
      expect(await raw(path)).toBe(404)
      expect(upstream.total()).toBe(before)
    }
  })

  test('an id the gateway never saw created is refused (default deny), without asking the upstream', async () => {
    await refusedUnseen(() => client(KEY_A).files.retrieve('file-CreatedBeforeTheGateway'))
    await refusedUnseen(() => client(KEY_A).responses.retrieve('resp_made_directly_upstream'))
  })

  test('isolation = "none": the provider forwards every object request as it is', async () => {
    const a = client(KEY_A, 'openai-solo')
    const b = client(KEY_B, 'openai-solo')
    const file = await a.files.create({ file: await toFile(Buffer.from('x'), 'solo.jsonl'), purpose: 'batch' })
    const before = upstream.count('GET', `/openai/v1/files/${file.id}`)
    expect((await b.files.retrieve(file.id)).id).toBe(file.id)
    expect(upstream.count('GET', `/openai/v1/files/${file.id}`)).toBe(before + 1)
    // Its list is the upstream's, unfiltered; the isolated provider's view of the same account is not.
    expect((await b.files.list()).data.map((f) => f.id)).toContain(file.id)
    expect((await client(KEY_B).files.list()).data.map((f) => f.id)).not.toContain(file.id)
    // Objects made on the unisolated provider were never recorded: the isolated one refuses them.
    await refusedUnseen(() => client(KEY_A).files.retrieve(file.id))
  })
})

describe('Groq (the OpenAI format under /openai/v1): files, batches and lists', () => {
  const client = (key: string) => new Groq({ apiKey: key, baseURL: `${gateway.url}/groq`, maxRetries: 0 })

  test("B cannot read, download or delete A's file, nor batch over it or read A's batch", async () => {
    const a = client(KEY_A)
    const b = client(KEY_B)
    const made = await a.files.create({ file: await toFile(Buffer.from('{"custom_id":"1"}\n'), 'in.jsonl'), purpose: 'batch' })
    const file = { id: made.id! }
    expect(file.id).toStartWith('file-')
    const err = await refusedUnseen(() => b.files.info(file.id))
    expect(err).toBeInstanceOf(Groq.NotFoundError)
    await refusedUnseen(() => b.files.content(file.id))
    await refusedUnseen(() => b.files.delete(file.id))
    await refusedUnseen(() => b.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }))
    const batch = await a.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    await refusedUnseen(() => b.batches.retrieve(batch.id))
    await refusedUnseen(() => b.batches.cancel(batch.id))
    expect((await b.files.list()).data).toEqual([])
    expect((await a.files.list()).data!.map((f) => f.id)).toEqual([file.id])
    expect((await b.batches.list()).data).toEqual([])
    expect((await a.batches.retrieve(batch.id)).id).toBe(batch.id)
  })
})

describe('Anthropic: files, message batches and lists', () => {
  const client = (key: string) => new Anthropic({ apiKey: key, baseURL: `${gateway.url}/anthropic`, maxRetries: 0 })

  test("B cannot read, download, delete or cite A's file; lists hold only the caller's files", async () => {
    const a = client(KEY_A)
    const b = client(KEY_B)
    const file = await a.beta.files.upload({ file: await anthropicFile(Buffer.from('hello world'), 'notes.txt', { type: 'text/plain' }) })
    expect(file.id).toStartWith('file_')
    const err = await refusedUnseen(() => b.beta.files.retrieveMetadata(file.id))
    expect(err).toBeInstanceOf(Anthropic.NotFoundError)
    expect((err as { error?: { error?: { type?: string } } }).error?.error?.type).toBe('not_found_error')
    await refusedUnseen(() => b.beta.files.download(file.id))
    await refusedUnseen(() => b.beta.files.delete(file.id))
    // A message citing the file makes the upstream read it.
    const message = (key: Anthropic) =>
      key.beta.messages.create({
        model: 'claude-3-5-haiku-latest',
        max_tokens: 16,
        betas: ['files-api-2025-04-14'],
        messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'file', file_id: file.id } }, { type: 'text', text: 'Summarise.' }] }],
      })
    await refusedUnseen(() => message(b))
    expect((await message(a)).content[0]).toMatchObject({ type: 'text' })

    expect((await a.beta.files.retrieveMetadata(file.id)).id).toBe(file.id)
    expect(await (await a.beta.files.download(file.id)).text()).toBe('hello world')
    const idsA: string[] = []
    for await (const f of a.beta.files.list()) idsA.push(f.id)
    const idsB: string[] = []
    for await (const f of b.beta.files.list()) idsB.push(f.id)
    expect(idsA).toEqual([file.id])
    expect(idsB).toEqual([])
  })

  test("B cannot read, cancel, fetch the results of or delete A's message batch", async () => {
    const a = client(KEY_A)
    const b = client(KEY_B)
    const batch = await a.messages.batches.create({
      requests: [{ custom_id: 'q1', params: { model: 'claude-3-5-haiku-latest', max_tokens: 16, messages: [{ role: 'user', content: 'Capital of France?' }] } }],
    })
    expect(batch.id).toStartWith('msgbatch_')
    await refusedUnseen(() => b.messages.batches.retrieve(batch.id))
    await refusedUnseen(() => b.messages.batches.cancel(batch.id))
    await refusedUnseen(() => b.messages.batches.delete(batch.id))
    // The results path, asked directly.
    const before = upstream.total()
    const results = await fetch(`${gateway.url}/anthropic/v1/messages/batches/${batch.id}/results`, { headers: { 'x-api-key': KEY_B, 'anthropic-version': '2023-06-01' } })
    expect(results.status).toBe(404)
    expect(((await results.json()) as { error: { type: string } }).error.type).toBe('not_found_error')
    expect(upstream.total()).toBe(before)
    // results_url is pointed at the gateway: the SDK's results() stays on it, with the gateway key.
    expect(batch.results_url).toBe(`${gateway.url}/anthropic/v1/messages/batches/${batch.id}/results`)
    const seen = upstream.count('GET', `/anthropic/v1/messages/batches/${batch.id}/results`)
    const rows: string[] = []
    for await (const r of await a.messages.batches.results(batch.id)) rows.push(r.custom_id)
    expect(rows).toEqual(['q1'])
    expect(upstream.count('GET', `/anthropic/v1/messages/batches/${batch.id}/results`)).toBe(seen + 1)
    await refusedUnseen(async () => {
      for await (const _ of await b.messages.batches.results(batch.id)) {
        // never reached
      }
    })

    const listed: string[] = []
    for await (const x of b.messages.batches.list()) listed.push(x.id)
    expect(listed).toEqual([])
    const mine: string[] = []
    for await (const x of a.messages.batches.list()) mine.push(x.id)
    expect(mine).toEqual([batch.id])
    expect((await a.messages.batches.retrieve(batch.id)).id).toBe(batch.id)
    expect((await a.messages.batches.delete(batch.id)).type).toBe('message_batch_deleted')
  })
})

describe('Gemini: files, batches, cached contents and lists', () => {
  const client = (key: string) => new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: `${gateway.url}/gemini`, apiVersion: 'v1beta' } })

  test("B cannot read, delete or cite A's file; lists hold only the caller's files", async () => {
    const a = client(KEY_A)
    const b = client(KEY_B)
    const file = await a.files.upload({ file: new Blob(['hello world'], { type: 'text/plain' }), config: { mimeType: 'text/plain' } })
    expect(file.name).toStartWith('files/')
    const fileB = await b.files.upload({ file: new Blob(['other'], { type: 'text/plain' }), config: { mimeType: 'text/plain' } })

    const err = await refusedUnseen(() => b.files.get({ name: file.name! }))
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).message).toContain('NOT_FOUND')
    await refusedUnseen(() => b.files.delete({ name: file.name! }))
    const ask = (ai: GoogleGenAI) =>
      ai.models.generateContent({ model: 'gemini-2.0-flash', contents: [{ role: 'user', parts: [{ fileData: { fileUri: file.uri!, mimeType: 'text/plain' } }, { text: 'Summarise.' }] }] })
    await refusedUnseen(() => ask(b))
    expect((await ask(a)).text).toBe('Paris.')

    expect((await a.files.get({ name: file.name! })).name).toBe(file.name)
    const namesA: string[] = []
    for await (const f of await a.files.list()) namesA.push(f.name!)
    const namesB: string[] = []
    for await (const f of await b.files.list()) namesB.push(f.name!)
    expect(namesA).toEqual([file.name!])
    expect(namesB).toEqual([fileB.name!])
  })

  test("B cannot read, cancel, delete or list A's batch", async () => {
    const a = client(KEY_A)
    const b = client(KEY_B)
    const batch = await a.batches.create({ model: 'gemini-2.0-flash', src: [{ contents: [{ role: 'user', parts: [{ text: 'Capital of France?' }] }] }] })
    expect(batch.name).toStartWith('batches/')
    await refusedUnseen(() => b.batches.get({ name: batch.name! }))
    await refusedUnseen(() => b.batches.cancel({ name: batch.name! }))
    await refusedUnseen(() => b.batches.delete({ name: batch.name! }))
    const listed: string[] = []
    for await (const x of await b.batches.list()) listed.push(x.name!)
    expect(listed).toEqual([])
    const mine: string[] = []
    for await (const x of await a.batches.list()) mine.push(x.name!)
    expect(mine).toEqual([batch.name!])
    expect((await a.batches.get({ name: batch.name! })).name).toBe(batch.name)
  })

  test("B cannot read, delete, list or search A's file search store", async () => {
    const a = client(KEY_A)
    const b = client(KEY_B)
    const store = await a.fileSearchStores.create({ config: { displayName: 'test-file-search-grounding' } })
    expect(store.name).toStartWith('fileSearchStores/')
    await refusedUnseen(() => b.fileSearchStores.get({ name: store.name! }))
    await refusedUnseen(() => b.fileSearchStores.delete({ name: store.name!, config: { force: true } }))
    const ask = (ai: GoogleGenAI) =>
      ai.models.generateContent({ model: 'gemini-2.0-flash', contents: 'Capital of France?', config: { tools: [{ fileSearch: { fileSearchStoreNames: [store.name!] } }] } })
    await refusedUnseen(() => ask(b))
    expect((await ask(a)).text).toBe('Paris.')
    const listed: string[] = []
    for await (const x of await b.fileSearchStores.list()) listed.push(x.name!)
    expect(listed).toEqual([])
    const mine: string[] = []
    for await (const x of await a.fileSearchStores.list()) mine.push(x.name!)
    expect(mine).toEqual([store.name!])
  })

  test("B cannot generate over A's cached content", async () => {
    const a = client(KEY_A)
    const b = client(KEY_B)
    const cache = await a.caches.create({ model: 'gemini-2.0-flash', config: { contents: [{ role: 'user', parts: [{ text: 'a long document' }] }] } })
    expect(cache.name).toStartWith('cachedContents/')
    const ask = (ai: GoogleGenAI) => ai.models.generateContent({ model: 'gemini-2.0-flash', contents: 'Summarise.', config: { cachedContent: cache.name! } })
    await refusedUnseen(() => ask(b))
    expect((await ask(a)).text).toBe('Paris.')
    await refusedUnseen(() => b.caches.get({ name: cache.name! }))
    await refusedUnseen(() => b.caches.update({ name: cache.name!, config: { ttl: '86400s' } }))
    await refusedUnseen(() => b.caches.delete({ name: cache.name! }))

    // The owner moves its expiry: the record follows, so the row is kept until the new end.
    const id = cache.name!.slice('cachedContents/'.length)
    const first = gateway.gw.objects.store.owner('gemini', 'cached_content', id) as { expiresAt: number }
    expect(first.expiresAt).toBe(Date.parse(cache.expireTime!))
    const moved = await a.caches.update({ name: cache.name!, config: { ttl: '86400s' } })
    const now = gateway.gw.objects.store.owner('gemini', 'cached_content', id) as { expiresAt: number }
    expect(now.expiresAt).toBe(Date.parse(moved.expireTime!))
    expect(now.expiresAt).toBeGreaterThan(first.expiresAt + 80_000_000)
    await a.caches.delete({ name: cache.name! })
    await refusedUnseen(() => a.caches.get({ name: cache.name! }))
  })
})
