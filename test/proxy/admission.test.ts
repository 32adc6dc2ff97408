/** Admission: max_inflight, the stream buffer budget and the per-key fair share above the high-water mark. */
import { describe, expect, test } from 'bun:test'
import { Admission, defaultMaxInflight } from '../../src/proxy/admission'
import { GatewayError } from '../../src/errors'

function admission(max: number) {
  const a = new Admission()
  a.maxInflight = max
  return a
}

function refusal(f: () => unknown): GatewayError {
  try {
    f()
  } catch (e) {
    return e as GatewayError
  }
  throw new Error('admitted')
}

describe('admission', () => {
  test('past max_inflight a new request gets 503 gateway_overloaded with retry-after; a release makes room', () => {
    const a = admission(3)
    const t = [a.admit('k1'), a.admit('k2'), a.admit('k3')]
    const e = refusal(() => a.admit('k4'))
    expect(e).toMatchObject({ status: 503, code: 'gateway_overloaded', retryable: true })
    expect(e.headers['retry-after']).toBe('1')
    t[0]!.release()
    t[0]!.release() // twice counts once
    expect(a.inflight).toBe(2)
    a.admit('k4')
    expect(a.inflight).toBe(3)
  })

  test('above the high-water mark one key holds at most its fair share; another key is still admitted', () => {
    const a = admission(100)
    for (let i = 0; i < 90; i++) a.admit('greedy')
    // Above 90 %: with two keys the share is 50, and greedy holds 90.
    expect(refusal(() => a.admit('greedy')).code).toBe('gateway_overloaded')
    for (let i = 0; i < 10; i++) a.admit('other')
    expect(a.inflight).toBe(100)
  })

  test('one key alone stops at the high-water mark, leaving room for a newcomer', () => {
    const a = admission(100)
    for (let i = 0; i < 90; i++) a.admit('only')
    expect(refusal(() => a.admit('only')).message).toContain('fair share')
    for (let i = 0; i < 10; i++) a.admit(`new${i}`)
    expect(refusal(() => a.admit('late')).message).toContain('100 requests in flight')
  })

  test("a key whose streams buffer bytes near the budget is refused; a key buffering nothing is not", () => {
    const a = admission(100)
    a.bufferBudget = 1024 * 1024
    a.buffers.perStream = 256 * 1024
    const t = a.admit('k')
    t.buffers.bytes += 900 * 1024
    expect(a.buffers.bytes).toBe(900 * 1024)
    expect(refusal(() => a.admit('k')).message).toContain('memory budget')
    const other = a.admit('other')
    t.buffers.bytes -= 900 * 1024
    expect(a.buffers.bytes).toBe(0)
    a.admit('k')
    other.release()
  })

  test("one key's slow streams past the whole budget: that key is refused while other keys are admitted, up to their fair shares", () => {
    const a = admission(10_000)
    a.bufferBudget = 48 * 256 * 1024
    a.buffers.perStream = 256 * 1024
    // Key A's streams were admitted before they filled; now they hold 1.5 budgets.
    const greedy = Array.from({ length: 72 }, () => a.admit('A'))
    for (const t of greedy) t.buffers.bytes += 256 * 1024
    expect(a.buffers.bytes).toBe(1.5 * a.bufferBudget)
    const e = refusal(() => a.admit('A'))
    expect(e).toMatchObject({ status: 503, code: 'gateway_overloaded', retryable: true })
    expect(e.headers['retry-after']).toBe('1')
    expect(e.message).toContain('memory budget')
    // Key B is admitted, and its streams may fill up to its share (a third of the budget with A, B and one more).
    const b: ReturnType<typeof a.admit>[] = []
    for (let i = 0; i < 100; i++) {
      try {
        const t = a.admit('B')
        t.buffers.bytes += 256 * 1024
        b.push(t)
      } catch (err) {
        expect((err as GatewayError).code).toBe('gateway_overloaded')
        break
      }
    }
    expect(b.length * 256 * 1024).toBe(a.bufferShare())
    expect(a.bufferShare()).toBe(a.bufferBudget / 3)
    // A third key still gets in; A stays out until its clients read.
    a.admit('C').release()
    expect(refusal(() => a.admit('A')).code).toBe('gateway_overloaded')
    for (const t of greedy) {
      t.buffers.bytes -= 256 * 1024
      t.release()
    }
    a.admit('A')
    // The ticket's bytes are its own; the key's and the gateway's totals follow every change.
    const t = a.admit('D')
    t.buffers.bytes += 1000
    expect(t.buffers.bytes).toBe(1000)
    expect(t.buffers.perStream).toBe(256 * 1024)
    expect(a.buffers.bytes).toBe(b.length * 256 * 1024 + 1000)
  })

  test('the default max_inflight is (open-files soft limit - 256) / 2', () => {
    expect(defaultMaxInflight(20_000)).toBe(9872)
    expect(defaultMaxInflight(1024)).toBe(384)
    expect(defaultMaxInflight(Infinity)).toBe(4096)
  })
})

describe('admission through the gateway', () => {
  const OTHER_KEY = 'tg-test-CANARY-gateway-key-0000000000000002'
  let release!: () => void
  const held = new Promise<void>((r) => (release = r))
  let seen = 0
  const upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    idleTimeout: 0,
    fetch() {
      seen++
      return new Response(
        new ReadableStream({
          async start(c) {
            c.enqueue(new TextEncoder().encode('data: {"choices":[]}\n\n'))
            await held
            c.enqueue(new TextEncoder().encode('data: [DONE]\n\n'))
            c.close()
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      )
    },
  })

  test("one key's streams fill it to its share: its next request is a native 503 that never went upstream; another key is served", async () => {
    const { startGateway, basicConfig, CANARY } = await import('../support/gateway')
    const OpenAI = (await import('openai')).default
    const gateway = await startGateway(
      `[server]\nmax_inflight = 10\n` +
        basicConfig(
          `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "http://127.0.0.1:${upstream.port}/v1"\napi_key = "${CANARY.openaiKey}"\n`,
          `[[keys]]\nid = "other"\nproject = "default"\nkey = "${OTHER_KEY}"\n`,
        ),
    )
    try {
      const greedy = new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/openai`, maxRetries: 0 })
      const other = new OpenAI({ apiKey: OTHER_KEY, baseURL: `${gateway.url}/openai`, maxRetries: 0 })
      const open = () => greedy.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [] })
      // 90 % of 10 is the high-water mark: a key alone may hold 9.
      const streams = await Promise.all(Array.from({ length: 9 }, open))
      expect(seen).toBe(9)
      const refused = await open().then(
        () => undefined,
        (e) => e as InstanceType<typeof OpenAI.APIError>,
      )
      expect(refused?.status).toBe(503)
      expect((refused?.error as { code?: string }).code).toBe('gateway_overloaded')
      expect(refused?.headers?.get('retry-after')).toBe('1')
      expect(seen).toBe(9)
      const metrics = await gateway.gw.telemetry.metrics.registry.metrics()
      expect(metrics).toContain('tollgate_admission_inflight 9')
      expect(metrics).toContain('tollgate_admission_max_inflight 10')
      const served = await other.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [] })
      expect(seen).toBe(10)
      release()
      for (const s of [...streams, served]) for await (const _ of s) void _
      // Admitted streams were never hurt, and their slots came back.
      expect(gateway.gw.proxy.admission.inflight).toBe(0)
      const again = await open()
      for await (const _ of again) void _
    } finally {
      release()
      await gateway.stop()
      upstream.stop(true)
    }
  })
})
