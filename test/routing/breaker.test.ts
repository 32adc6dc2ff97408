/** The circuit breaker on an injected clock: closed → open → half-open (one probe) → closed or open again. */
import { describe, expect, test } from 'bun:test'
import { BreakerRegistry, CircuitBreaker } from '../../src/proxy/breaker'
import type { ProviderConfig } from '../../src/config/schema'

function breaker(failures = 3, cooldownMs = 1000) {
  const clock = { t: 0 }
  const b = new CircuitBreaker('p', () => clock.t)
  b.failures = failures
  b.cooldownMs = cooldownMs
  return { b, clock }
}

const fail = (b: CircuitBreaker) => b.acquire()!.failure()

describe('circuit breaker', () => {
  test('opens on the N-th failure in a row, not before; a success in between resets the count', () => {
    const { b } = breaker(3)
    fail(b)
    fail(b)
    b.acquire()!.success()
    fail(b)
    fail(b)
    expect(b.state()).toBe('closed')
    fail(b)
    expect(b.state()).toBe('open')
    expect(b.acquire()).toBeUndefined()
    expect(b.allows()).toBe(false)
  })

  test('after the cool-down exactly one probe goes; its success closes the breaker', () => {
    const { b, clock } = breaker(1, 1000)
    fail(b)
    clock.t = 999
    expect(b.acquire()).toBeUndefined()
    clock.t = 1000
    expect(b.state()).toBe('half_open')
    const probe = b.acquire()!
    expect(probe).toBeDefined()
    // A second request while the probe is out is skipped.
    expect(b.acquire()).toBeUndefined()
    expect(b.snapshot()).toMatchObject({ state: 'half_open', probing: true })
    probe.success()
    expect(b.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0, probing: false })
    expect(b.acquire()).toBeDefined()
  })

  test('a failed probe re-opens it for a whole new cool-down', () => {
    const { b, clock } = breaker(2, 1000)
    fail(b)
    fail(b)
    clock.t = 1500
    b.acquire()!.failure()
    expect(b.snapshot()).toMatchObject({ state: 'open', openedAt: 1500, retryAt: 2500 })
    clock.t = 2499
    expect(b.acquire()).toBeUndefined()
    clock.t = 2500
    expect(b.acquire()).toBeDefined()
  })

  test('a probe cancelled without a verdict (client left) frees the slot', () => {
    const { b, clock } = breaker(1, 10)
    fail(b)
    clock.t = 10
    b.acquire()!.cancel()
    expect(b.state()).toBe('half_open')
    expect(b.acquire()).toBeDefined()
  })

  test('a permit reports once; failures = 0 never opens', () => {
    const { b } = breaker(0)
    for (let i = 0; i < 20; i++) fail(b)
    expect(b.state()).toBe('closed')
    const { b: b2 } = breaker(2)
    const p = b2.acquire()!
    p.failure()
    p.failure()
    expect(b2.snapshot().consecutiveFailures).toBe(1)
  })

  test('a stream cut after commit counts as a failure; cuts within a second are one burst', () => {
    const { b, clock } = breaker(2)
    b.acquire()!.success()
    b.lateFailure()
    clock.t += 500
    b.lateFailure()
    expect(b.state()).toBe('closed')
    clock.t += 1000
    b.lateFailure()
    expect(b.state()).toBe('open')
  })

  test('a burst of simultaneous failures counts as one signal, not as N in a row', () => {
    const { b, clock } = breaker(3)
    // Eight attempts start together, then fail one after another.
    const permits = Array.from({ length: 8 }, () => b.acquire()!)
    for (const p of permits) {
      clock.t += 10
      p.failure()
    }
    expect(b.snapshot().consecutiveFailures).toBe(1)
    expect(b.state()).toBe('closed')
    // Attempts started after that failure was seen are new signals.
    fail(b)
    clock.t += 10
    fail(b)
    expect(b.state()).toBe('open')
  })

  test('a failure of an attempt that started before a success does not count', () => {
    const { b, clock } = breaker(1)
    const old = b.acquire()!
    clock.t += 10
    b.acquire()!.success()
    clock.t += 10
    old.failure()
    expect(b.state()).toBe('closed')
    expect(b.snapshot().consecutiveFailures).toBe(0)
  })

  test('the registry applies per-provider settings and keeps state across a reload', () => {
    let t = 0
    const reg = new BreakerRegistry(() => t)
    const p = (id: string, extra: Partial<ProviderConfig> = {}) => ({ id, api: 'openai', ...extra }) as ProviderConfig
    reg.configure([p('a', { circuit_breaker: { failures: 1, cooldown_ms: 5 } }), p('b')])
    expect(reg.for('b')).toMatchObject({ failures: 5, cooldownMs: 30_000 })
    reg.for('a').acquire()!.failure()
    reg.configure([p('a', { circuit_breaker: { failures: 1, cooldown_ms: 5 } })])
    expect(reg.snapshot()).toEqual([{ provider: 'a', state: 'open', consecutiveFailures: 1, openedAt: 0, retryAt: 5, probing: false }])
    t = 5
    expect(reg.snapshot()[0]!.state).toBe('half_open')
  })
})
