/**
 * The bypasses of issue 14's first list, against a key limited to gpt-4o-mini*, claude-3-5-haiku*
 * and gemini-2.0-flash* with a $0.01 daily limit: each is refused in the client's format and the
 * upstream is never called.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'

let calls = 0
let upstream: ReturnType<typeof Bun.serve>
let gateway: TestGateway

beforeAll(async () => {
  upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch() {
      calls++
      return Response.json({ ok: true })
    },
  })
  const u = `http://127.0.0.1:${upstream.port}`
  gateway = await startGateway(
    basicConfig(
      `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${u}/v1"\napi_key = "sk-x"\n` +
        `[[providers]]\nid = "groq"\napi = "groq"\nbase_url = "${u}"\napi_key = "gsk-x"\n` +
        `[[providers]]\nid = "anthropic"\napi = "anthropic"\nbase_url = "${u}"\napi_key = "sk-ant-x"\n` +
        `[[providers]]\nid = "gemini"\napi = "gemini"\nbase_url = "${u}"\napi_key = "g-x"\n`,
      'models = ["gpt-4o-mini*", "claude-3-5-haiku*", "gemini-2.0-flash*"]\nlimits = { daily = 0.01 }',
    ),
  )
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop(true)
})

const key = { authorization: `Bearer ${CANARY.gatewayKey}` }

async function refused(path: string, init: RequestInit, status: number) {
  const before = calls
  const res = await fetch(`${gateway.url}${path}`, { method: 'POST', ...init, headers: { ...key, ...(init.headers as Record<string, string>) } })
  expect(res.status).toBe(status)
  await res.arrayBuffer()
  expect(calls).toBe(before)
}

const chat = (model: string) => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] })

describe('content types: the body is read as JSON whatever its declared type', () => {
  for (const ct of ['application/JSON', 'Application/Json', 'text/plain', undefined]) {
    test(`OpenAI chat for gpt-5 with ${ct ?? 'no content type'}`, async () => {
      await refused('/openai/chat/completions', { headers: ct ? { 'content-type': ct } : {}, body: chat('gpt-5') }, 403)
    })
    test(`Groq chat for llama-3.3-70b-versatile with ${ct ?? 'no content type'}`, async () => {
      await refused('/groq/openai/v1/chat/completions', { headers: ct ? { 'content-type': ct } : {}, body: chat('llama-3.3-70b-versatile') }, 403)
    })
    test(`Anthropic messages for claude-opus-4-1 with ${ct ?? 'no content type'}`, async () => {
      await refused('/anthropic/v1/messages', { headers: ct ? { 'content-type': ct } : {}, body: JSON.stringify({ model: 'claude-opus-4-1', max_tokens: 5, messages: [] }) }, 403)
    })
  }
  test('a body that is not JSON on a JSON endpoint is a 400', async () => {
    await refused('/openai/chat/completions', { headers: { 'content-type': 'text/plain' }, body: 'model=gpt-5' }, 400)
  })
})

describe('multipart, batches, paths', () => {
  test('multipart audio transcription reads the model from the form', async () => {
    const form = new FormData()
    form.set('model', 'whisper-1')
    form.set('file', new Blob([new Uint8Array(64)]), 'a.wav')
    await refused('/openai/audio/transcriptions', { body: form }, 403)
    await refused('/groq/openai/v1/audio/transcriptions', { body: form }, 403)
  })
  test('OpenAI and Groq batches are refused for a limited key', async () => {
    await refused('/openai/batches', { headers: { 'content-type': 'application/json' }, body: '{"input_file_id":"file-1","endpoint":"/v1/chat/completions","completion_window":"24h"}' }, 403)
    await refused('/groq/openai/v1/batches', { headers: { 'content-type': 'application/json' }, body: '{"input_file_id":"file-1"}' }, 403)
  })
  test('an Anthropic inline batch checks every request against the allow-list', async () => {
    const body = JSON.stringify({
      requests: [
        { custom_id: 'a', params: { model: 'claude-3-5-haiku-latest', max_tokens: 5, messages: [] } },
        { custom_id: 'b', params: { model: 'claude-opus-4-1', max_tokens: 5, messages: [] } },
      ],
    })
    await refused('/anthropic/v1/messages/batches', { headers: { 'content-type': 'application/json' }, body }, 403)
  })
  for (const path of [
    '/gemini/v1beta/models/gemini-2.5-pro:generateContent/',
    '/gemini/v1beta//models/gemini-2.5-pro:generateContent',
    '/gemini/v1beta/models/gemini-2.5-pro%3AgenerateContent',
    '/gemini//v1beta/models//gemini-2.5-pro:generateContent//',
  ]) {
    test(`Gemini ${path} resolves to gemini-2.5-pro`, async () => {
      await refused(path, { headers: { 'content-type': 'application/json' }, body: '{"contents":[]}' }, 403)
    })
  }
  test('a path no row matches is a native 404 naming it', async () => {
    const res = await fetch(`${gateway.url}/openai/some/unknown/path`, { method: 'POST', headers: key, body: '{}' })
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('some/unknown/path')
  })
})

describe('model names are bounded', () => {
  const long = 'gpt-4o-mini' + 'x'.repeat(300)
  test('over 256 bytes or with control characters: a native 400 on every route', async () => {
    await refused('/openai/chat/completions', { headers: { 'content-type': 'application/json' }, body: chat(long) }, 400)
    await refused('/openai/chat/completions', { headers: { 'content-type': 'application/json' }, body: chat('gpt-4o-mini\n') }, 400)
    await refused('/anthropic/v1/messages', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: long, max_tokens: 1, messages: [] }) }, 400)
    await refused(`/gemini/v1beta/models/gemini-2.0-flash${'x'.repeat(300)}:generateContent`, { headers: { 'content-type': 'application/json' }, body: '{"contents":[]}' }, 400)
    await refused('/groq/openai/v1/chat/completions', { headers: { 'content-type': 'application/json' }, body: chat(long) }, 400)
  })
})
