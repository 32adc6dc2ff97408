/**
 * More than 256 streams at once. Bun's fetch queues requests past 256 per process unless
 * BUN_CONFIG_MAX_HTTP_REQUESTS is set at start (the systemd unit and the container image set it).
 * The upstream holds every stream open until all of them have arrived, so a capped gateway
 * never gets there. Clients are raw sockets, so the test process's own fetch limit is moot.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CANARY } from '../support/gateway'
import { serve } from '../support/cli'

const STREAMS = 300
let open = 0
let releaseAll!: () => void
const allOpen = new Promise<void>((r) => (releaseAll = r))
let upstream: ReturnType<typeof Bun.serve>
let dir: string

beforeAll(() => {
  upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    idleTimeout: 0,
    fetch() {
      if (++open === STREAMS) releaseAll()
      return new Response(
        new ReadableStream({
          async start(c) {
            c.enqueue(new TextEncoder().encode('data: {"choices":[]}\n\n'))
            await allOpen
            c.enqueue(new TextEncoder().encode('data: [DONE]\n\n'))
            c.close()
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      )
    },
  })
  dir = mkdtempSync(join(tmpdir(), 'tg-conc-'))
  writeFileSync(
    join(dir, 'config.toml'),
    `[database]\nurl = "file:${join(dir, 't.db')}"\n[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "http://127.0.0.1:${upstream.port}/v1"\napi_key = "${CANARY.openaiKey}"\n` +
      `[[projects]]\nid = "p"\n[[keys]]\nid = "k"\nproject = "p"\nkey = "${CANARY.gatewayKey}"\n`,
  )
})
afterAll(() => {
  upstream.stop(true)
  rmSync(dir, { recursive: true, force: true })
})

/** One raw HTTP/1.1 streaming request; resolves with the whole response text. */
function rawStream(port: number): Promise<string> {
  const body = '{"model":"gpt-4o-mini","stream":true,"messages":[]}'
  return new Promise((resolve, reject) => {
    let text = ''
    Bun.connect({
      hostname: '127.0.0.1',
      port,
      socket: {
        open(s) {
          s.write(`POST /openai/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${CANARY.gatewayKey}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`)
        },
        data(_s, d) {
          text += new TextDecoder().decode(d)
        },
        close: () => resolve(text),
        error: (_s, e) => reject(e),
      },
    }).catch(reject)
  })
}

test(`${STREAMS} concurrent streams all reach the upstream at once`, async () => {
  // TEST_FETCH_LIMIT=256 shows this test failing when the limit is not lifted.
  const server = await serve(['--config', join(dir, 'config.toml'), '--listen', '127.0.0.1:0'], { env: { BUN_CONFIG_MAX_HTTP_REQUESTS: process.env.TEST_FETCH_LIMIT ?? '65336' } })
  try {
    const port = Number(new URL(server.url).port)
    const all = Promise.all(Array.from({ length: STREAMS }, () => rawStream(port)))
    // Had the gateway been capped at 256, the upstream would wait here forever.
    const reached = await Promise.race([allOpen.then(() => true), Bun.sleep(20_000).then(() => false)])
    expect({ reached, open }).toEqual({ reached: true, open: STREAMS })
    const texts = await all
    expect(texts.every((t) => t.startsWith('HTTP/1.1 200') && t.includes('data: [DONE]'))).toBe(true)
  } finally {
    server.proc.kill('SIGTERM')
    await server.proc.exited
  }
}, 60_000)
