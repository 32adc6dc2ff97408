/**
 * The object kinds made beside a model call, and Vertex AI's (issue 14 §4), with the official
 * SDKs against a local upstream that shares one account between every caller: OpenAI containers
 * (created, or made by a code interpreter in a response), Anthropic code-execution containers
 * (made by a message, reused by id), Vertex cached contents and batch prediction jobs. Project
 * B's key naming A's object (in the path or the body) gets the native 404 and the upstream never
 * hears of it; lists answer only the caller's objects; A still reaches its own. Bedrock's
 * asynchronous invocations are refused.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import { BedrockRuntimeClient, StartAsyncInvokeCommand } from '@aws-sdk/client-bedrock-runtime'
import { GoogleGenAI } from '@google/genai'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import OpenAI from 'openai'
import { startGateway, type TestGateway } from '../support/gateway'
import { startOAuthServer, type OAuthServer } from '../support/oauth-server'
import { SA_ENV } from '../google/support'
import { KEY_A, KEY_B, TWO_PROJECTS } from './config'
import { startContainerUpstream, type ContainerUpstream } from './container-upstream'

const KEY_LIMITED = 'tg-objects-project-a-limited-key-0000003'
const PROJECT = 'pydantic-ai'

let upstream: ContainerUpstream
let oauth: OAuthServer
let gateway: TestGateway

function toml(u: string, tokenUrl: string): string {
  return `
[[providers]]
id = "openai"
api = "openai"
base_url = "${u}/openai/v1"
api_key = "sk-test-objects"

[[providers]]
id = "anthropic"
api = "anthropic"
base_url = "${u}/anthropic"
api_key = "sk-ant-test-objects"

[[providers]]
id = "google-vertex"
api = "google-vertex"
base_url = "${u}/vertex"
credentials = "\${${SA_ENV}}"
token_url = "${tokenUrl}"

[[providers]]
id = "bedrock"
api = "bedrock"
region = "us-east-1"
base_url = "${u}/bedrock"
api_key = "bedrock-test-objects"

${TWO_PROJECTS}
[[keys]]
id = "kl"
project = "a"
user = "root"
key = "${KEY_LIMITED}"
models = ["gemini-*"]
`
}

beforeAll(async () => {
  oauth = await startOAuthServer({ project: PROJECT })
  upstream = await startContainerUpstream(PROJECT)
  gateway = await startGateway(toml(upstream.url, oauth.tokenUrl), { env: { [SA_ENV]: oauth.accountJson } })
})
afterAll(async () => {
  await gateway?.stop()
  upstream?.stop()
  oauth?.stop()
})

/** Runs `f`, expects it to fail with `status`, and that the upstream got no call meanwhile. */
async function refusedUnseen(f: () => Promise<unknown>, status = 404): Promise<unknown> {
  const before = upstream.total()
  let err: unknown
  try {
    await f()
  } catch (e) {
    err = e
  }
  expect(err).toBeDefined()
  expect((err as { status?: number; $metadata?: { httpStatusCode?: number } }).status ?? (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(status)
  expect(upstream.total()).toBe(before)
  return err
}

const openai = (key: string) => new OpenAI({ apiKey: key, baseURL: `${gateway.url}/openai`, maxRetries: 0 })
const anthropic = (key: string) => new Anthropic({ apiKey: key, baseURL: `${gateway.url}/anthropic`, maxRetries: 0 })
const vertex = (key: string) =>
  new GoogleGenAI({ vertexai: true, apiKey: key, project: PROJECT, location: 'global', httpOptions: { baseUrl: `${gateway.url}/google-vertex`, retryOptions: { attempts: 1 } } })

describe('OpenAI containers', () => {
  test("B cannot read, list, delete or use A's container, nor its files; A can", async () => {
    const a = openai(KEY_A)
    const b = openai(KEY_B)
    const c = await a.containers.create({ name: 'scratch' })
    expect(c.id).toStartWith('cntr_')
    await refusedUnseen(() => b.containers.retrieve(c.id))
    await refusedUnseen(() => b.containers.delete(c.id))
    await refusedUnseen(() => b.containers.files.list(c.id))
    await refusedUnseen(() => b.containers.files.create(c.id, { file: new File(['hello'], 'a.txt') }))
    // In a body: a code interpreter asked to run in A's container.
    await refusedUnseen(() => b.responses.create({ model: 'gpt-4o-mini', input: 'run it', tools: [{ type: 'code_interpreter', container: c.id }] }))
    expect((await b.containers.list()).data.map((x) => x.id)).not.toContain(c.id)

    expect((await a.containers.retrieve(c.id)).id).toBe(c.id)
    expect((await a.containers.files.create(c.id, { file: new File(['hello'], 'a.txt') })).container_id).toBe(c.id)
    expect((await a.containers.list()).data.map((x) => x.id)).toContain(c.id)
    const used = await a.responses.create({ model: 'gpt-4o-mini', input: 'run it', tools: [{ type: 'code_interpreter', container: c.id }] })
    expect(used.output.some((o) => o.type === 'code_interpreter_call' && o.container_id === c.id)).toBe(true)
    await a.containers.delete(c.id)
    // Gone for its owner too, without asking the upstream.
    await refusedUnseen(() => a.containers.retrieve(c.id))
  })

  test("an auto container a response's code interpreter made is that project's (JSON and the recorded stream)", async () => {
    const a = openai(KEY_A)
    const b = openai(KEY_B)
    const made = await a.responses.create({ model: 'gpt-4o-mini', input: 'run it', tools: [{ type: 'code_interpreter', container: { type: 'auto' } }] })
    const id = (made.output.find((o) => o.type === 'code_interpreter_call') as { container_id: string }).container_id
    await refusedUnseen(() => b.containers.retrieve(id))
    await refusedUnseen(() => b.responses.create({ model: 'gpt-4o-mini', input: 'again', tools: [{ type: 'code_interpreter', container: id }] }))
    expect((await a.containers.retrieve(id)).id).toBe(id)

    // The recorded stream names its container in output item events; the stream is read to its end by the client.
    const stream = await b.responses.create({ model: 'gpt-5', input: 'big number', stream: true, tools: [{ type: 'code_interpreter', container: { type: 'auto' } }] })
    for await (const _ of stream) void _
    const streamed = upstream.streamedOpenAiContainer
    await refusedUnseen(() => a.containers.retrieve(streamed))
    expect((await b.containers.retrieve(streamed)).id).toBe(streamed)
  })
})

describe('Anthropic code-execution containers', () => {
  const tools = [{ type: 'code_execution_20250825' as const, name: 'code_execution' as const }]
  const ask = (key: string, container?: string) =>
    anthropic(key).beta.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 1024, messages: [{ role: 'user', content: 'How much is 3 * 12390?' }], tools, container, betas: ['code-execution-2025-08-25'] })

  test("the container a message made is its project's: B cannot reuse it (nor count tokens over it); A can", async () => {
    const first = await ask(KEY_A)
    const id = first.container!.id
    expect(id).toStartWith('container_')
    await refusedUnseen(() => ask(KEY_B, id))
    await refusedUnseen(() => anthropic(KEY_B).beta.messages.countTokens({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }], tools, container: id } as never))
    // An id the gateway never saw in an answer is refused too (default deny).
    await refusedUnseen(() => ask(KEY_A, 'container_011CnotSeenByTheGateway'))
    const again = await ask(KEY_A, id)
    expect(again.container!.id).toBe(id)
    const err = (await refusedUnseen(() => ask(KEY_B, id))) as { error?: { error?: { type?: string } } }
    expect(err.error?.error?.type).toBe('not_found_error')
  })

  test("a streamed message's container (in message_delta, the recorded stream) is its project's", async () => {
    const stream = anthropic(KEY_B).beta.messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 1024, messages: [{ role: 'user', content: 'edit a file' }], tools, betas: ['code-execution-2025-08-25'] })
    const done = await stream.finalMessage()
    const id = upstream.streamedAnthropicContainer
    expect(done.container?.id).toBe(id)
    await refusedUnseen(() => ask(KEY_A, id))
    expect((await ask(KEY_B, id)).container!.id).toBe(id)
  })

  test('on Bedrock (Anthropic format) a container no answer named is refused before upstream', async () => {
    const before = upstream.total()
    const res = await fetch(`${gateway.url}/bedrock/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'anthropic.claude-sonnet-4-5-20250929-v1:0', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], container: 'container_011CfromAnotherProject' }),
    })
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('not_found_error')
    expect(upstream.total()).toBe(before)
  })
})

describe('Vertex AI cached contents and batch prediction jobs', () => {
  const contents = [{ role: 'user', parts: [{ text: 'a long document '.repeat(64) }] }]

  test("B cannot read, update, delete, list or generate over A's cached content; A can", async () => {
    const a = vertex(KEY_A)
    const b = vertex(KEY_B)
    const c = await a.caches.create({ model: 'gemini-2.0-flash-001', config: { contents, ttl: '3600s' } })
    expect(c.name).toStartWith(`projects/${upstream.vertexProjectNumber}/locations/global/cachedContents/`)
    // Every call went to the provider's own project and region.
    expect(upstream.vertexPaths.at(-1)).toBe(`POST /v1beta1/projects/${PROJECT}/locations/global/cachedContents`)
    await refusedUnseen(() => b.caches.get({ name: c.name! }))
    await refusedUnseen(() => b.caches.update({ name: c.name!, config: { ttl: '7200s' } }))
    await refusedUnseen(() => b.caches.delete({ name: c.name! }))
    await refusedUnseen(() => b.models.generateContent({ model: 'gemini-2.0-flash-001', contents: 'Summarise it.', config: { cachedContent: c.name! } }))
    const listed: string[] = []
    for await (const x of await b.caches.list()) listed.push(x.name!)
    expect(listed).not.toContain(c.name)

    expect((await a.caches.get({ name: c.name! })).name).toBe(c.name)
    // A PATCH moves the expiry; the record follows it.
    const moved = await a.caches.update({ name: c.name!, config: { ttl: '7200s' } })
    expect(Date.parse(moved.expireTime!)).toBeGreaterThan(Date.parse(c.expireTime!))
    const out = await a.models.generateContent({ model: 'gemini-2.0-flash-001', contents: 'Summarise it.', config: { cachedContent: c.name! } })
    expect(out.text).toBe('Paris.')
    const mine: string[] = []
    for await (const x of await a.caches.list()) mine.push(x.name!)
    expect(mine).toContain(c.name!)
    await a.caches.delete({ name: c.name! })
    await refusedUnseen(() => a.caches.get({ name: c.name! }))
  })

  test('express mode (no projects/… in the path): the same rows, rewritten to the provider project', async () => {
    const express = (key: string) => new GoogleGenAI({ vertexai: true, apiKey: key, httpOptions: { baseUrl: `${gateway.url}/google-vertex`, retryOptions: { attempts: 1 } } })
    const c = await express(KEY_A).caches.create({ model: 'gemini-2.0-flash-001', config: { contents, ttl: '3600s' } })
    expect(upstream.vertexPaths.at(-1)).toBe(`POST /v1beta1/projects/${PROJECT}/locations/global/cachedContents`)
    await refusedUnseen(() => express(KEY_B).models.generateContent({ model: 'gemini-2.0-flash-001', contents: 'Summarise it.', config: { cachedContent: c.name! } }))
    expect((await express(KEY_A).models.generateContent({ model: 'gemini-2.0-flash-001', contents: 'Summarise it.', config: { cachedContent: c.name! } })).text).toBe('Paris.')
  })

  test("batch prediction jobs: refused for a limited key; B cannot read, cancel, delete or list A's job; A can", async () => {
    const src = { model: 'gemini-2.0-flash-001', src: 'gs://bucket/in.jsonl', config: { dest: 'gs://bucket/out/' } }
    const denied = (await refusedUnseen(() => vertex(KEY_LIMITED).batches.create(src), 403)) as Error
    expect(denied.message).toContain('Batch jobs cannot be checked')
    const a = vertex(KEY_A)
    const b = vertex(KEY_B)
    const job = await a.batches.create(src)
    expect(job.name).toContain('/batchPredictionJobs/')
    await refusedUnseen(() => b.batches.get({ name: job.name! }))
    await refusedUnseen(() => b.batches.cancel({ name: job.name! }))
    await refusedUnseen(() => b.batches.delete({ name: job.name! }))
    const listed: string[] = []
    for await (const x of await b.batches.list()) listed.push(x.name!)
    expect(listed).not.toContain(job.name)
    expect((await a.batches.get({ name: job.name! })).name).toBe(job.name)
    const mine: string[] = []
    for await (const x of await a.batches.list()) mine.push(x.name!)
    expect(mine).toEqual([job.name!])
  })
})

describe('Bedrock asynchronous invocations', () => {
  test('StartAsyncInvoke is refused with a 403 that says why; the upstream is never called', async () => {
    const client = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: `${gateway.url}/bedrock`, token: { token: KEY_A }, authSchemePreference: ['httpBearerAuth'], requestHandler: new NodeHttpHandler(), maxAttempts: 1 })
    const err = (await refusedUnseen(
      () => client.send(new StartAsyncInvokeCommand({ modelId: 'amazon.nova-reel-v1:0', modelInput: { taskType: 'TEXT_VIDEO' }, outputDataConfig: { s3OutputDataConfig: { s3Uri: 's3://bucket/out/' } } })),
      403,
    )) as Error
    expect(err.message).toContain('asynchronous invocations')
    client.destroy()
  })
})
