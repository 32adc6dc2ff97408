/**
 * Timeouts: the watchdog's rules (idle counts only while waiting on the upstream; first byte only
 * for streams), the connect watch, and stalls through a real gateway: a stalled non-streamed
 * answer fails over on total_ms, a stream stalled mid-way ends with the client's own error event.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Anthropic from '@anthropic-ai/sdk'
import { AttemptWatchdog } from '../../src/proxy/timeouts'
import { markReachable, watchConnect } from '../../src/proxy/connect-probe'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette, type Interaction } from '../support/recordings'
import { startFaultUpstream, type FaultUpstream } from '../support/fault-upstream'

const never = () => new Promise<{ close(): void }>(() => {})

describe('watchdog', () => {
  test('idle time counts only while a read is pending', async () => {
    const dog = new AttemptWatchdog({ connectMs: 0, firstByteMs: 0, idleMs: 40, totalMs: 0 }, true)
    // Not waiting (the client is slow to pull): no idle timeout.
    await Bun.sleep(80)
    expect(dog.cause).toBeUndefined()
    dog.waiting(true)
    await Bun.sleep(20)
    dog.waiting(false)
    dog.waiting(true)
    while (!dog.signal.aborted) await Bun.sleep(5)
    expect(dog.cause).toBe('idle_timeout')
    expect(dog.timedOut).toBe(true)
  })

  test('first byte is armed for streams only; gotFirstByte disarms it; dispose stops everything', async () => {
    const nonStream = new AttemptWatchdog({ connectMs: 0, firstByteMs: 10, idleMs: 0, totalMs: 0 }, false)
    const stream = new AttemptWatchdog({ connectMs: 0, firstByteMs: 10, idleMs: 0, totalMs: 0 }, true)
    const served = new AttemptWatchdog({ connectMs: 0, firstByteMs: 10, idleMs: 0, totalMs: 0 }, true)
    served.gotFirstByte()
    const disposed = new AttemptWatchdog({ connectMs: 0, firstByteMs: 0, idleMs: 0, totalMs: 10 }, false)
    disposed.dispose()
    while (!stream.signal.aborted) await Bun.sleep(5)
    await Bun.sleep(20)
    expect(stream.cause).toBe('first_byte_timeout')
    expect(nonStream.cause).toBeUndefined()
    expect(served.cause).toBeUndefined()
    expect(disposed.cause).toBeUndefined()
    nonStream.dispose()
    served.dispose()
  })

  test('a client abort is not a timeout', () => {
    const dog = new AttemptWatchdog({ connectMs: 0, firstByteMs: 0, idleMs: 0, totalMs: 0 }, true)
    dog.abort('client_disconnected')
    dog.abort('total_timeout')
    expect(dog.cause).toBe('client_disconnected')
    expect(dog.timedOut).toBe(false)
  })
})

describe('connect watch', () => {
  test('a connect that does not finish in time aborts the attempt', async () => {
    let fired = false as boolean
    watchConnect('https://blackhole.invalid:8443/v1', 20, () => (fired = true), never)
    while (!fired) await Bun.sleep(5)
    expect(fired).toBe(true)
  })

  test('a connect that succeeds, or is refused, does not; stopping it does not', async () => {
    let fired = 0
    const ok = { close() {} }
    watchConnect('http://ok.invalid:1/', 20, () => fired++, async () => ok)
    watchConnect('http://refused.invalid:1/', 20, () => fired++, async () => {
      throw new Error('ECONNREFUSED')
    })
    const stop = watchConnect('http://stopped.invalid:1/', 20, () => fired++, never)
    stop()
    await Bun.sleep(60)
    expect(fired).toBe(0)
  })

  test('an origin that answered recently is not probed', async () => {
    let probes = 0
    markReachable('http://warm.invalid:9/v1/x')
    watchConnect('http://warm.invalid:9/other', 20, () => {}, () => (probes++, never()))
    watchConnect('http://cold.invalid:9/other', 20, () => {}, () => (probes++, never()))
    expect(probes).toBe(1)
  })
})

describe('stalls through the gateway', () => {
  let a: FaultUpstream
  let b: FaultUpstream
  let gateway: TestGateway
  let json: Interaction
  let stream: Interaction
  beforeAll(async () => {
    json = (await loadCassette('anthropic', 'test_anthropic_model_instructions')).interactions[0]!
    stream = (await loadCassette('anthropic', 'test_anthropic_model_thinking_part_redacted_stream')).interactions[0]!
    a = await startFaultUpstream()
    b = await startFaultUpstream()
    const p = (id: string, url: string, t: string) => `[[providers]]\nid = "${id}"\napi = "anthropic"\nbase_url = "${url}"\napi_key = "${CANARY.anthropicKey}"\ntimeouts = ${t}\n`
    gateway = await startGateway(
      basicConfig(
        p('a', a.url, '{ first_byte_ms = 50, idle_ms = 150, total_ms = 250 }') +
          p('b', b.url, '{ idle_ms = 100 }') +
          `[[routes]]\nname = "claude"\ntargets = [{ provider = "a", priority = 1 }, { provider = "b" }]`,
      ),
    )
  })
  afterAll(async () => {
    await gateway.stop()
    await a.stop()
    await b.stop()
  })

  test('a non-streamed answer that never comes fails over on total_ms (first_byte_ms is for streams)', async () => {
    a.script({ stall: 'headers' })
    b.script({ replay: json })
    const c = new Anthropic({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/claude`, maxRetries: 0 })
    const { data, response } = await c.beta.messages.create(json.requestBody as Anthropic.Beta.MessageCreateParamsNonStreaming).withResponse()
    expect(data as unknown).toEqual(json.responseJson)
    await gateway.gw.requestLog.flush()
    const row = (await gateway.gw.database.client.execute({ sql: 'SELECT attempts FROM request_log WHERE id = ?', args: [response.headers.get('x-tollgate-request-id')!] })).rows[0]!
    expect(JSON.parse(row.attempts as string).map((x: { error?: string }) => x.error)).toEqual(['total_timeout', undefined])
  })

  test('a stream stalled mid-way ends with exactly one Anthropic error event after the bytes already sent', async () => {
    b.script({ replay: stream, stallAfter: 4 })
    const res = await fetch(`${gateway.url}/b/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': CANARY.gatewayKey, 'content-type': 'application/json' },
      body: JSON.stringify(stream.requestBody),
    })
    const text = await res.text()
    const sent = new TextDecoder().decode(stream.responseBody).split(/(?<=\n\n)/).slice(0, 4).join('')
    expect(text.slice(0, sent.length)).toBe(sent)
    const tail = text.slice(sent.length)
    expect(tail.startsWith('event: error\ndata: ')).toBe(true)
    expect(JSON.parse(tail.slice('event: error\ndata: '.length))).toEqual({ type: 'error', error: { type: 'api_error', message: 'The upstream stream stalled (idle timeout).' } })
    expect(tail.endsWith('\n\n')).toBe(true)
  })

  test('the total deadline cuts a stream that keeps trickling (never idle long enough for idle_ms)', async () => {
    // One event every 60 ms: idle (150 ms) never fires, total (250 ms) does.
    a.script({ replay: stream, everyMs: 60 })
    const res = await fetch(`${gateway.url}/a/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': CANARY.gatewayKey, 'content-type': 'application/json' },
      body: JSON.stringify(stream.requestBody),
    })
    const text = await res.text()
    expect(text).toEndWith('event: error\ndata: {"type":"error","error":{"type":"api_error","message":"The upstream response took longer than its total timeout."}}\n\n')
    await gateway.gw.requestLog.flush()
    const row = (await gateway.gw.database.client.execute({ sql: 'SELECT status, error FROM request_log WHERE id = ?', args: [res.headers.get('x-tollgate-request-id')!] })).rows[0]!
    expect({ ...row } as Record<string, unknown>).toEqual({ status: 200, error: 'total_timeout' })
  })
})
