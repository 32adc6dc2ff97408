/**
 * A burst larger than the gateway's open-files limit. The gateway runs as a child process with
 * a low limit (ulimit -n, soft and hard, so Bun cannot raise it), and max_inflight set past
 * it, so its upstream connects fail locally with EMFILE. Those are the gateway's own failures:
 * the clients get a native 503 gateway_overloaded, never 502 upstream_unreachable, and the
 * provider's breaker stays closed (no circuit_open, and a request after the burst is served).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CANARY } from '../support/gateway'
import { BUN, ROOT, serve } from '../support/cli'

const CLIENTS = 1500
const FD_LIMIT = 300
let upstream: ReturnType<typeof Bun.serve>
let dir: string

beforeAll(() => {
  upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    idleTimeout: 0,
    fetch() {
      return new Response(
        new ReadableStream({
          async start(c) {
            c.enqueue(new TextEncoder().encode('data: {"choices":[]}\n\n'))
            await Bun.sleep(1500)
            c.enqueue(new TextEncoder().encode('data: [DONE]\n\n'))
            c.close()
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      )
    },
  })
  dir = mkdtempSync(join(tmpdir(), 'tg-overload-'))
  writeFileSync(
    join(dir, 'config.toml'),
    `[server]\nmax_inflight = 100000\n[database]\nurl = "file:${join(dir, 't.db')}"\n[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "http://127.0.0.1:${upstream.port}/v1"\napi_key = "${CANARY.openaiKey}"\n` +
      `circuit_breaker = { failures = 2, cooldown_ms = 60000 }\n[[projects]]\nid = "p"\n[[keys]]\nid = "k"\nproject = "p"\nkey = "${CANARY.gatewayKey}"\n`,
  )
})
afterAll(() => {
  upstream.stop(true)
  rmSync(dir, { recursive: true, force: true })
})

/** One raw streaming request; resolves with the response text ('' if the gateway never answered in time). */
function rawStream(port: number, ms = 20_000): Promise<string> {
  const body = '{"model":"gpt-4o-mini","stream":true,"messages":[]}'
  return new Promise((resolve) => {
    let text = ''
    const timer = setTimeout(() => resolve(text), ms)
    const done = () => {
      clearTimeout(timer)
      resolve(text)
    }
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
        close: done,
        error: done,
      },
    }).catch(done)
  })
}

test(`${CLIENTS} streams at a gateway limited to ${FD_LIMIT} open files: local failures are 503 overloaded, the breaker stays closed`, async () => {
  const server = await serve(['--config', join(dir, 'config.toml'), '--listen', '127.0.0.1:0'], {
    cmd: ['bash', '-c', `ulimit -n ${FD_LIMIT} && exec "$0" "$@"`, BUN, join(ROOT, 'src/cli.ts')],
    env: { BUN_CONFIG_MAX_HTTP_REQUESTS: '4096', TOLLGATE_OTEL: '' },
  })
  try {
    expect(server.firstLine).toContain(`open files ${FD_LIMIT}`)
    const port = Number(new URL(server.url).port)
    // Opened 100 per millisecond-ish step, so the listener's backlog is not what overflows.
    const texts = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => Bun.sleep(Math.floor(i / 100) * 20).then(() => rawStream(port))))
    const status = (t: string) => /^HTTP\/1\.1 (\d+)/.exec(t)?.[1] ?? 'none'
    const counts: Record<string, number> = {}
    for (const t of texts) counts[status(t)] = (counts[status(t)] ?? 0) + 1
    const overloaded = texts.filter((t) => status(t) === '503' && t.includes('gateway_overloaded')).length
    // The low limit really was hit on the upstream side (else this test proves nothing).
    expect(overloaded).toBeGreaterThan(0)
    // Every client got an answer: served, or told the gateway is overloaded.
    expect(counts).toEqual({ '200': CLIENTS - overloaded, '503': overloaded })
    expect(texts.some((t) => t.includes('circuit_open'))).toBe(false)
    expect(texts.some((t) => t.includes('upstream_unreachable'))).toBe(false)
    for (const t of texts.filter((t) => status(t) === '200')) expect(t).toContain('[DONE]')
    // The breaker (2 failures) never opened: a request after the burst is served.
    const after = await rawStream(port)
    expect(status(after)).toBe('200')
    expect(after).toContain('[DONE]')
  } finally {
    server.proc.kill()
    await server.proc.exited
  }
}, 60_000)
