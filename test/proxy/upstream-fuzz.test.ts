/**
 * A misbehaving upstream, generated: seeded random answers (statuses, content types, broken
 * JSON and SSE, bodies cut mid-way, lying gzip, slow chunks) to JSON and streamed requests on
 * the OpenAI and Anthropic routes. Whatever the upstream does, the client gets an answer it can
 * read to the end (a cut stream ends with one error event in its format), never the gateway's
 * own 500, and every request is recorded with the status the client saw. A failure prints the
 * seed and the case.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { gzipSync } from 'node:zlib'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import type { RequestRecord } from '../../src/proxy/record'
import { cases, type Cases } from '../support/random'

const SEED = Number(process.env.FUZZ_SEED ?? 112726)
const CASES = Number(process.env.FUZZ_CASES ?? 300)

let upstream: Server
let gateway: TestGateway
const records: RequestRecord[] = []
/** What the upstream does for case n (the client names the case in an SDK telemetry header, which the gateway forwards). */
const plans = new Map<number, Plan>()

interface Plan {
  status: number
  contentType: string | undefined
  encoding: 'gzip' | 'lying-gzip' | undefined
  parts: (string | Uint8Array)[]
  /** Reset the connection after the parts (a cut mid-way). */
  cut: boolean
  delayMs: number
}

beforeAll(async () => {
  // node:http, not Bun.serve: it can send a real TCP reset mid-body.
  upstream = createServer((req, res) => {
    req.resume()
    req.on('end', async () => {
      const plan = plans.get(Number(req.headers['x-stainless-fuzz-case']))
      if (!plan) return res.writeHead(418).end('no plan')
      const headers: Record<string, string> = {}
      if (plan.contentType) headers['content-type'] = plan.contentType
      if (plan.encoding) headers['content-encoding'] = 'gzip'
      res.writeHead(plan.status, headers)
      if (plan.status === 204 || plan.status === 304) return res.end()
      if (plan.encoding === 'gzip') return res.end(gzipSync(Buffer.concat(plan.parts.map((p) => Buffer.from(p)))))
      for (const p of plan.parts) {
        if (plan.delayMs) await Bun.sleep(plan.delayMs)
        res.write(p)
      }
      if (plan.cut) setTimeout(() => (res.socket as Socket | null)?.resetAndDestroy(), 5)
      else res.end()
    })
  })
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok))
  const u = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
  gateway = await startGateway(
    basicConfig(
      `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${u}/v1"\napi_key = "${CANARY.openaiKey}"\n` +
        `[[providers]]\nid = "anthropic"\napi = "anthropic"\nbase_url = "${u}"\napi_key = "${CANARY.anthropicKey}"`,
    ),
    { sinks: [{ record: (r) => void records.push(r) }] },
  )
})
afterAll(async () => {
  await gateway.stop()
  upstream.closeAllConnections()
  upstream.close()
})

const OPENAI_CHUNK = (text: string) => `data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}}}]}\n\n`
const OPENAI_USAGE = 'data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}\n\n'
const ANTHROPIC_EVENTS = [
  'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022","content":[],"usage":{"input_tokens":3,"output_tokens":1}}}\n\n',
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}\n\n',
  'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}\n\n',
  'event: message_stop\ndata: {"type":"message_stop"}\n\n',
]

function plan(r: Cases, anthropic: boolean): Plan {
  const status = r.pick([200, 200, 200, 200, 201, 204, 400, 401, 404, 429, 500, 502, 503, 529])
  const contentType = r.pick(['application/json', 'text/event-stream', 'text/event-stream; charset=utf-8', 'text/plain', 'application/octet-stream', undefined])
  const goodJson = anthropic
    ? '{"id":"m","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022","content":[{"type":"text","text":"hi"}],"usage":{"input_tokens":3,"output_tokens":2}}'
    : '{"id":"c","object":"chat.completion","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}'
  const goodSse = anthropic ? ANTHROPIC_EVENTS : [OPENAI_CHUNK('Hel'), OPENAI_CHUNK('lo'), OPENAI_USAGE, 'data: [DONE]\n\n']
  let parts: (string | Uint8Array)[]
  switch (Math.floor(r.next() * 9)) {
    case 0:
      parts = [goodJson]
      break
    case 1:
      parts = [goodJson.slice(0, Math.floor(r.next() * goodJson.length))]
      break
    case 2:
      parts = []
      break
    case 3:
      parts = [new Uint8Array(Array.from({ length: 300 }, () => Math.floor(r.next() * 256)))]
      break
    case 4:
      parts = ['x'.repeat(1 << 20)]
      break
    case 5: {
      // A good stream split at random byte offsets.
      const all = goodSse.join('')
      parts = []
      for (let at = 0; at < all.length; ) {
        const n = 1 + Math.floor(r.next() * 40)
        parts.push(all.slice(at, at + n))
        at += n
      }
      break
    }
    case 6:
      parts = ['data: {not json\n\n', 'event: \ndata:\n\n', 'data: {"usage":"nope"}\n\n', ':\n\n', 'data: {"usage":{"prompt_tokens":-1,"completion_tokens":1e309}}\n\n']
      break
    case 7:
      parts = ['\ufeffdata: {"a":1}\r\n\r\n', 'data: [DONE]\r\r']
      break
    default:
      parts = goodSse.slice(0, 1 + Math.floor(r.next() * (goodSse.length - 1)))
  }
  const encoding = r.chance(0.1) ? r.pick(['gzip', 'lying-gzip'] as const) : undefined
  return { status, contentType, encoding, parts, cut: r.chance(0.2), delayMs: r.chance(0.1) ? 5 : 0 }
}

test(`${CASES} generated upstream misbehaviours: a readable answer, never the gateway's 500, every request recorded`, async () => {
  const r = cases(SEED)
  const failures: string[] = []
  const one = async (n: number) => {
    const anthropic = r.chance(0.5)
    const stream = r.chance(0.5)
    const p = plan(r, anthropic)
    plans.set(n, p)
    const what = `case ${n} (seed ${SEED}): ${anthropic ? 'anthropic' : 'openai'} stream=${stream} upstream ${p.status} ${p.contentType ?? '-'} ${p.encoding ?? ''} parts=${p.parts.length} cut=${p.cut}`
    const url = anthropic ? `${gateway.url}/anthropic/v1/messages` : `${gateway.url}/openai/chat/completions`
    const body = anthropic ? { model: 'claude-3-5-haiku-latest', max_tokens: 10, stream, messages: [{ role: 'user', content: 'hi' }] } : { model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: 'hi' }] }
    let status = 0
    let text = ''
    try {
      const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${CANARY.gatewayKey}`, 'content-type': 'application/json', 'x-stainless-fuzz-case': String(n) }, body: JSON.stringify(body) })
      status = res.status
      text = await res.text()
    } catch (e) {
      // A binary body the gateway relays whole may itself be cut; that is the upstream's truncation, told as a broken transfer.
      if (!(p.cut && !(p.contentType ?? '').includes('event-stream'))) failures.push(`${what}: the client could not read the answer: ${(e as Error).message}`)
      return
    }
    if (status === 500 && p.status !== 500) failures.push(`${what}: the gateway's own 500: ${text.slice(0, 200)}`)
    if (text.includes('internal_error')) failures.push(`${what}: internal_error: ${text.slice(0, 200)}`)
    if (status < 500 && status !== p.status) failures.push(`${what}: status ${status}, the upstream said ${p.status}`)
    // An event stream the upstream cut after it began ends with one error event in the client's format.
    const sse = (p.contentType ?? '').includes('event-stream') && p.status === 200 && !p.encoding
    if (sse && p.cut && status === 200) {
      const tail = text.slice(text.lastIndexOf('\n\n', text.length - 3) + 2)
      if (!/"error"/.test(tail)) failures.push(`${what}: a cut stream ended without an error event: …${JSON.stringify(text.slice(-160))}`)
    }
  }
  for (let i = 0; i < CASES; i += 6) await Promise.all(Array.from({ length: Math.min(6, CASES - i) }, (_, k) => one(i + k)))
  expect(failures.slice(0, 12)).toEqual([])
  // Nothing lost: one record per request (streams settle when they end).
  for (let i = 0; i < 200 && records.length < CASES; i++) await Bun.sleep(10)
  expect(records.length).toBe(CASES)
  expect(records.filter((x) => x.error === 'internal_error')).toEqual([])
  const ok = await fetch(`${gateway.url}/health`)
  expect(ok.status).toBe(200)
}, 90_000)
