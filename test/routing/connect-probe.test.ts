/** One connect probe per cold origin at a time, shared by every request that waits on it. */
import { describe, expect, test } from 'bun:test'
import { probesInFlight, watchConnect } from '../../src/proxy/connect-probe'

describe('shared connect probe', () => {
  test('500 requests to one cold origin run one probe; when it times out, every waiting request hears it', async () => {
    let probes = 0
    let fired = 0
    const never = () => (probes++, new Promise<{ close(): void }>(() => {}))
    const stops = Array.from({ length: 500 }, () => watchConnect('http://shared-timeout.invalid:1/v1', 30, () => fired++, never))
    expect(probes).toBe(1)
    stops[0]!() // one request finished early: it is not told
    await Bun.sleep(80)
    expect(fired).toBe(499)
    expect(probesInFlight()).toBe(0)
  })

  test('a probe that connects warms the origin: later requests run none', async () => {
    let probes = 0
    let connected!: () => void
    const gate = new Promise<void>((r) => (connected = r))
    const slow = async () => {
      probes++
      await gate
      return { close() {} }
    }
    let fired = 0
    for (let i = 0; i < 100; i++) watchConnect('http://shared-ok.invalid:2/v1', 1000, () => fired++, slow)
    connected()
    await Bun.sleep(5)
    watchConnect('http://shared-ok.invalid:2/v1/other', 1000, () => fired++, slow)
    expect(probes).toBe(1)
    expect(fired).toBe(0)
  })

  test('a refused probe ends: the next request to that origin probes again', async () => {
    let probes = 0
    const refuse = async () => {
      probes++
      throw new Error('ECONNREFUSED')
    }
    watchConnect('http://shared-refused.invalid:3/', 50, () => {}, refuse)
    await Bun.sleep(5)
    watchConnect('http://shared-refused.invalid:3/', 50, () => {}, refuse)
    expect(probes).toBe(2)
  })
})
