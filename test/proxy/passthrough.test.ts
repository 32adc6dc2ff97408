/**
 * Zero translation: what crosses the gateway in each direction, streams relayed as they
 * arrive, client disconnects aborting the upstream, and the request log.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { gzipSync } from 'node:zlib'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'

/** A scriptable upstream: each test sets `next` to decide the answer. */
let next: (req: Request) => Response | Promise<Response> = () => new Response('unset', { status: 500 })
const seen: { headers: Headers; body: string; url: string }[] = []
let upstream: ReturnType<typeof Bun.serve>
let gateway: TestGateway

beforeAll(async () => {
  upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    idleTimeout: 0,
    async fetch(req) {
      seen.push({ headers: req.headers, body: await req.text(), url: req.url })
      return next(req)
    },
  })
  const u = `http://127.0.0.1:${upstream.port}`
  gateway = await startGateway(
    basicConfig(
      `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${u}/v1"\napi_key = "${CANARY.openaiKey}"\n` +
        `[[providers]]\nid = "openai-eu"\napi = "openai"\nbase_url = "${u}/eu/v1"\napi_key = "sk-test-eu"\n` +
        `[[providers]]\nid = "anthropic"\napi = "anthropic"\nbase_url = "${u}"\napi_key = "${CANARY.anthropicKey}"`,
      // Placeholder model names ("m", "claude-x") have no price; pass-through is what is tested here.
      '[pricing]\nunknown_model = "allow"',
    ),
  )
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop(true)
})

const auth = { authorization: `Bearer ${CANARY.gatewayKey}`, 'content-type': 'application/json' }

describe('request direction', () => {
  test('the upstream gets the allow-listed headers and its own credential, never the gateway key', async () => {
    next = () => Response.json({ ok: true })
    await fetch(`${gateway.url}/openai/chat/completions`, {
      method: 'POST',
      headers: {
        ...auth,
        'x-api-key': CANARY.gatewayKey,
        'x-goog-api-key': CANARY.gatewayKey,
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        'user-agent': 'OpenAI/JS 7.55.0',
        cookie: 'session=secret',
        'x-forwarded-for': '10.0.0.1',
        'openai-organization': 'org-client',
        'x-stainless-retry-count': '0',
      },
      body: '{"model":"gpt-4o-mini","messages":[]}',
    })
    const h = seen.at(-1)!.headers
    expect(h.get('authorization')).toBe(`Bearer ${CANARY.openaiKey}`)
    expect(h.get('x-api-key')).toBeNull()
    expect(h.get('x-goog-api-key')).toBeNull()
    expect(h.get('cookie')).toBeNull()
    expect(h.get('x-forwarded-for')).toBeNull()
    expect(h.get('openai-organization')).toBeNull()
    expect(h.get('traceparent')).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')
    expect(h.get('x-stainless-retry-count')).toBe('0')
    expect(h.get('user-agent')).toMatch(/^OpenAI\/JS 7\.55\.0 tollgate\/\d/)
    for (const [, v] of h) expect(v).not.toContain(CANARY.gatewayKey)
  })

  test('the body reaches the upstream byte for byte (odd spacing, unicode, key order)', async () => {
    next = () => Response.json({ ok: true })
    const body = '{ "z": 1,   "model" : "gpt-4o-mini", "messages": [{"role":"user","content":"héllo \\u00e9 🎉"}], "a": [1.50, 2e3] }'
    await fetch(`${gateway.url}/openai/chat/completions`, { method: 'POST', headers: auth, body })
    expect(seen.at(-1)!.body).toBe(body)
  })

  test('OpenAI chat streams get stream_options.include_usage, spliced without reserialising', async () => {
    next = () => new Response('data: [DONE]\n\n', { headers: { 'content-type': 'text/event-stream' } })
    const body = '{"model":"gpt-4o-mini",  "stream":true,"messages":[]}'
    await (await fetch(`${gateway.url}/openai/chat/completions`, { method: 'POST', headers: auth, body })).text()
    expect(seen.at(-1)!.body).toBe('{"stream_options":{"include_usage":true},"model":"gpt-4o-mini",  "stream":true,"messages":[]}')
    // Present but false: that one field is set.
    await (await fetch(`${gateway.url}/openai/chat/completions`, { method: 'POST', headers: auth, body: '{"model":"m","stream":true,"stream_options":{"include_usage":false}}' })).text()
    expect(JSON.parse(seen.at(-1)!.body)).toEqual({ model: 'm', stream: true, stream_options: { include_usage: true } })
    // Responses streams and non-streams are untouched.
    await (await fetch(`${gateway.url}/openai/responses`, { method: 'POST', headers: auth, body })).text()
    expect(seen.at(-1)!.body).toBe(body)
  })

  test('a provider id is a route; paths and queries are kept; /proxy works; v1/ is not doubled', async () => {
    next = () => Response.json({ ok: true })
    await fetch(`${gateway.url}/openai-eu/chat/completions?x=1`, { method: 'POST', headers: auth, body: '{"model":"gpt-4o-mini"}' })
    expect(new URL(seen.at(-1)!.url).pathname + new URL(seen.at(-1)!.url).search).toBe('/eu/v1/chat/completions?x=1')
    expect(seen.at(-1)!.headers.get('authorization')).toBe('Bearer sk-test-eu')
    for (const p of ['/proxy/openai/models', '/chat/models', '/openai-responses/models', '/responses/models', '/openai/v1/models']) {
      const r = await fetch(gateway.url + p, { headers: auth })
      expect(r.status).toBe(200)
      expect(new URL(seen.at(-1)!.url).pathname).toBe('/v1/models')
    }
  })
})

describe('response direction', () => {
  test('status, headers and body come back unchanged, minus hop-by-hop and account ids', async () => {
    next = () =>
      new Response('{"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}', {
        status: 429,
        headers: { 'content-type': 'application/json', 'retry-after': '7', 'openai-organization': 'org-secret', 'openai-project': 'proj_x', 'x-request-id': 'req_1', 'set-cookie': 'a=b' },
      })
    const r = await fetch(`${gateway.url}/openai/chat/completions`, { method: 'POST', headers: auth, body: '{"model":"gpt-4o-mini"}' })
    expect(r.status).toBe(429)
    expect(r.headers.get('retry-after')).toBe('7')
    expect(r.headers.get('x-request-id')).toBe('req_1')
    expect(r.headers.get('openai-organization')).toBeNull()
    expect(r.headers.get('openai-project')).toBeNull()
    expect(r.headers.get('set-cookie')).toBeNull()
    expect(r.headers.get('x-tollgate-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(await r.text()).toBe('{"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}')
  })

  test('a gzip upstream reaches the client decoded, with no stale content-encoding', async () => {
    const json = JSON.stringify({ id: 'c', usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 }, model: 'gpt-4o-mini' })
    next = () => new Response(gzipSync(json), { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } })
    const r = await fetch(`${gateway.url}/openai/chat/completions`, { method: 'POST', headers: auth, body: '{"model":"gpt-4o-mini"}' })
    expect(r.headers.get('content-encoding')).toBeNull()
    expect(await r.text()).toBe(json)
  })

  test('streams are relayed as they arrive, not buffered whole', async () => {
    // The upstream sends each event only after the client has read the one before: a gateway
    // that held bytes back (for the first chunk or any later one) would deadlock here.
    const events = ['message_start', 'content_block_delta', 'content_block_delta', 'message_stop'].map((t) => `event: ${t}\ndata: {"type":"${t}"}\n\n`)
    const gates = events.map(() => Promise.withResolvers<void>())
    next = () =>
      new Response(
        new ReadableStream({
          async start(c) {
            for (let i = 0; i < events.length; i++) {
              if (i > 0) await gates[i - 1]!.promise
              c.enqueue(new TextEncoder().encode(events[i]!))
            }
            c.close()
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      )
    const r = await fetch(`${gateway.url}/anthropic/v1/messages`, { method: 'POST', headers: auth, body: '{"model":"claude-x","stream":true}' })
    const reader = r.body!.getReader()
    const decoder = new TextDecoder()
    for (let i = 0; i < events.length; i++) {
      let got = ''
      while (got.length < events[i]!.length) {
        const { done, value } = await reader.read()
        expect(done).toBe(false)
        got += decoder.decode(value, { stream: true })
      }
      expect(got).toBe(events[i]!)
      gates[i]!.resolve()
    }
    expect((await reader.read()).done).toBe(true)
  })
})

describe('client disconnects', () => {
  /** An upstream stream that never ends by itself; resolves `cancelled` when the gateway lets go. */
  function endlessStream() {
    let cancelled!: () => void
    const gone = new Promise<void>((r) => (cancelled = r))
    next = (req) => {
      req.signal.addEventListener('abort', () => cancelled())
      let timer: ReturnType<typeof setInterval>
      return new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode('data: {"n":0}\n\n'))
            timer = setInterval(() => c.enqueue(new TextEncoder().encode('data: {"n":1}\n\n')), 20)
          },
          cancel() {
            clearInterval(timer)
            cancelled()
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      )
    }
    return gone
  }

  /** Resolves true if `p` settles within `ms`. */
  const within = (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => true), Bun.sleep(ms).then(() => false)])

  test('mid-stream: the upstream request is aborted within 1 s', async () => {
    const gone = endlessStream()
    const ac = new AbortController()
    const r = await fetch(`${gateway.url}/openai/chat/completions`, { method: 'POST', headers: auth, body: '{"model":"gpt-4o-mini","stream":true}', signal: ac.signal })
    const reader = r.body!.getReader()
    await reader.read()
    ac.abort()
    expect(await within(gone, 1000)).toBe(true)
  })

  test('before the first byte: the upstream request is aborted within 1 s', async () => {
    let aborted!: () => void
    const gone = new Promise<void>((r) => (aborted = r))
    next = (req) =>
      new Promise<Response>((resolve) => {
        req.signal.addEventListener('abort', () => {
          aborted()
          resolve(new Response('late'))
        })
      })
    const ac = new AbortController()
    const pending = fetch(`${gateway.url}/openai/chat/completions`, { method: 'POST', headers: auth, body: '{"model":"gpt-4o-mini"}', signal: ac.signal }).catch(() => 'aborted')
    await Bun.sleep(100)
    ac.abort()
    expect(await pending).toBe('aborted')
    expect(await within(gone, 1000)).toBe(true)
  })
})

describe('request log', () => {
  test('every request is written off the request path, with usage as reported', async () => {
    next = () =>
      new Response(
        'data: {"id":"c1","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n' +
          'data: {"id":"c1","model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":2,"total_tokens":13,"prompt_tokens_details":{"cached_tokens":4}}}\n\n' +
          'data: [DONE]\n\n',
        { headers: { 'content-type': 'text/event-stream' } },
      )
    const r = await fetch(`${gateway.url}/openai/chat/completions`, { method: 'POST', headers: auth, body: '{"model":"gpt-4o-mini","stream":true,"messages":[]}' })
    const id = r.headers.get('x-tollgate-request-id')!
    await r.text()
    // Nothing was written synchronously; the batch writer flushes on its timer.
    await gateway.gw.requestLog.flush()
    const row = (await gateway.gw.database.client.execute({ sql: 'SELECT * FROM request_log WHERE id = ?', args: [id] })).rows[0]!
    expect(row.key_id).toBe('test-key')
    expect(row.project).toBe('default')
    expect(row.user).toBe('alice')
    expect(row.provider).toBe('openai')
    expect(row.route).toBe('openai')
    expect(row.model).toBe('gpt-4o-mini-2024-07-18')
    expect(row.stream).toBe(1)
    expect(row.status).toBe(200)
    expect(row.input_tokens).toBe(11)
    expect(row.output_tokens).toBe(2)
    expect(row.cache_read_tokens).toBe(4)
    expect(JSON.parse(row.usage as string)).toEqual({ prompt_tokens: 11, completion_tokens: 2, total_tokens: 13, prompt_tokens_details: { cached_tokens: 4 } })
    expect(typeof row.duration_ms).toBe('number')
    expect(typeof row.ttfb_ms).toBe('number')
    expect(row.ts as number).toBeGreaterThan(Date.now() - 60_000)
  })

  test('refused requests are logged too, with their error code', async () => {
    const r = await fetch(`${gateway.url}/openai/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer wrong' }, body: '{}' })
    const id = r.headers.get('x-tollgate-request-id')!
    await gateway.gw.requestLog.flush()
    const row = (await gateway.gw.database.client.execute({ sql: 'SELECT status, error, key_id FROM request_log WHERE id = ?', args: [id] })).rows[0]!
    expect({ ...row } as Record<string, unknown>).toEqual({ status: 401, error: 'invalid_api_key', key_id: null })
  })
})
