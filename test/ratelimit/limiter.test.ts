/**
 * One rate-limiter suite run against both implementations: in memory (one process) and
 * Redis (a cluster; here three links in one process sharing one redis-server, as three
 * instances would).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ClusterLink } from '../../src/cluster/link'
import { MemoryLimiter } from '../../src/ratelimit/memory'
import { RedisLimiter } from '../../src/ratelimit/redis'
import { isRateDenial, type RateGrant, type RateLimiter, type RateScope } from '../../src/ratelimit/types'
import { redisAvailable, startRedis, type TestRedis } from '../support/redis'

interface Harness {
  /** Three handles on the same limits (one per instance; the memory one is a single process). */
  limiters: RateLimiter[]
  close(): Promise<void>
}

let seq = 0
const scope = (limits: RateScope['limits'], kind: RateScope['kind'] = 'key'): RateScope => ({ kind, id: `s${++seq}-${crypto.randomUUID().slice(0, 8)}`, limits })

function granted(r: RateGrant | { denied: true }): r is RateGrant {
  return !isRateDenial(r as RateGrant)
}

const quiet = () => {}

async function redisHarness(redis: TestRedis, prefix: string): Promise<Harness> {
  const links = [0, 1, 2].map((i) => new ClusterLink({ redis_url: redis.url, on_redis_down: 'closed', lease_seconds: 30, key_prefix: prefix, instance_id: `i${i}` }, quiet))
  const limiters = links.map((l) => {
    const r = new RedisLimiter(l)
    l.add(r)
    return r
  })
  await Promise.all(links.map((l) => l.start()))
  return { limiters, close: async () => void (await Promise.all(links.map((l) => l.stop()))) }
}

function suite(name: string, make: () => Promise<Harness>, ok: () => boolean) {
  describe.skipIf(!ok())(`${name} limiter`, () => {
    let h: Harness
    beforeAll(async () => {
      h = await make()
    })
    afterAll(() => h?.close())
    const pick = (i: number) => h.limiters[i % h.limiters.length]!

    test('rpm: 200 concurrent requests over three instances, exactly the limit admitted', async () => {
      const s = scope({ rpm: 10 })
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => pick(i).acquire(`r${i}`, [s], 0)))
      expect(results.filter(granted).length).toBe(10)
      const denial = results.find((r) => !granted(r)) as { metric: string; limit: number; retryAfterMs: number; scope: RateScope }
      expect(denial.metric).toBe('rpm')
      expect(denial.limit).toBe(10)
      expect(denial.scope.id).toBe(s.id)
      // Honest: the oldest of the ten leaves the minute in (almost) 60 s.
      expect(denial.retryAfterMs).toBeGreaterThan(50_000)
      expect(denial.retryAfterMs).toBeLessThanOrEqual(60_000)
    })

    test('the most restrictive scope wins, and a refusal counts on no scope', async () => {
      const key = scope({ rpm: 100 })
      const project = scope({ rpm: 3 }, 'project')
      const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => pick(i).acquire(`m${i}`, [key, project], 0)))
      expect(rs.filter(granted).length).toBe(3)
      // The key alone still has 97 left: the 17 refusals did not count on it.
      const alone = await Promise.all(Array.from({ length: 97 }, (_, i) => pick(i).acquire(`a${i}`, [key], 0)))
      expect(alone.every(granted)).toBe(true)
      expect(granted(await pick(0).acquire('over', [key], 0))).toBe(false)
    })

    test('concurrency: slots free on release, on any instance', async () => {
      const s = scope({ concurrency: 2 })
      const a = await pick(0).acquire('c1', [s], 0)
      const b = await pick(1).acquire('c2', [s], 0)
      expect(granted(a) && granted(b)).toBe(true)
      const c = await pick(2).acquire('c3', [s], 0)
      expect(granted(c)).toBe(false)
      expect((c as { metric: string }).metric).toBe('concurrency')
      pick(0).release(a as RateGrant, 0)
      await eventuallyGranted(() => pick(2).acquire('c4', [s], 0))
    })

    test('tpm: reserved at the estimate, settled to the usage', async () => {
      const s = scope({ tpm: 1000 })
      const a = await pick(0).acquire('t1', [s], 600)
      expect(granted(a)).toBe(true)
      // 600 reserved + 600 > 1000, and a request is in flight: refused.
      const b = await pick(1).acquire('t2', [s], 600)
      expect(granted(b)).toBe(false)
      expect((b as { metric: string }).metric).toBe('tpm')
      pick(0).release(a as RateGrant, 100)
      // Settled to 100: 100 + 600 fits.
      const c = await eventuallyGranted(() => pick(1).acquire('t3', [s], 600))
      expect(granted(c)).toBe(true)
    })

    test('tpm: a bound larger than what is left is admitted only with nothing in flight (overshoot ≤ one request)', async () => {
      const s = scope({ tpm: 1000 })
      const a = await pick(0).acquire('l1', [s], 5000)
      expect(granted(a)).toBe(true)
      expect(granted(await pick(1).acquire('l2', [s], 10))).toBe(false)
      pick(0).release(a as RateGrant, 900)
      // 900 used < 1000 and nothing in flight: the last request may go.
      const c = await eventuallyGranted(() => pick(2).acquire('l3', [s], 5000))
      pick(2).release(c as RateGrant, 300)
      // Now 1200 ≥ 1000: nothing more this minute.
      const d = await pick(0).acquire('l4', [s], 1)
      expect(granted(d)).toBe(false)
      expect((d as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(50_000)
    })
  })
}

/** A release is sent without waiting; the next acquire may briefly precede it. */
async function eventuallyGranted(f: () => Promise<RateGrant | { denied: true }> | RateGrant | { denied: true }) {
  for (let i = 0; i < 100; i++) {
    const r = await f()
    if (granted(r)) return r
    await Bun.sleep(5)
  }
  throw new Error('never granted')
}

suite(
  'memory',
  async () => {
    const m = new MemoryLimiter()
    return { limiters: [m], close: async () => {} }
  },
  () => true,
)

let redis: TestRedis | undefined
const haveRedis = redisAvailable('test/ratelimit/limiter.test.ts (redis)')
suite(
  'redis',
  async () => {
    redis = await startRedis()
    const h = await redisHarness(redis, 'spec:')
    return {
      limiters: h.limiters,
      close: async () => {
        await h.close()
        await redis?.close()
      },
    }
  },
  () => haveRedis,
)

describe('memory limiter, sliding minute (injected clock)', () => {
  test('rpm slides: each admission frees its slot 60 s later, and retry-after says when', () => {
    let now = 1_000_000
    const m = new MemoryLimiter(() => now)
    const s = scope({ rpm: 2 })
    expect(granted(m.acquire('a', [s], 0))).toBe(true)
    now += 20_000
    expect(granted(m.acquire('b', [s], 0))).toBe(true)
    const d = m.acquire('c', [s], 0) as { retryAfterMs: number }
    expect(d.retryAfterMs).toBe(40_000)
    now += 40_000
    expect(granted(m.acquire('c', [s], 0))).toBe(true)
    const e = m.acquire('d', [s], 0) as { retryAfterMs: number }
    expect(e.retryAfterMs).toBe(20_000)
  })

  test('tpm retry-after: when enough tokens leave the minute', () => {
    let now = 0
    const m = new MemoryLimiter(() => now)
    const s = scope({ tpm: 100 })
    m.release(m.acquire('a', [s], 60) as RateGrant, 60)
    now = 10_000
    // "b" stays in flight, so the last-request rule does not apply.
    expect(granted(m.acquire('b', [s], 30))).toBe(true)
    now = 15_000
    const d = m.acquire('c', [s], 50) as { metric: string; retryAfterMs: number }
    expect(d.metric).toBe('tpm')
    // 90 used; 50 more fits once "a" (60) leaves at 60 s.
    expect(d.retryAfterMs).toBe(45_000)
  })

  test('a 1/N share (local mode) divides every limit, never below one', () => {
    const m = new MemoryLimiter()
    m.divisor = 3
    const s = scope({ rpm: 10, concurrency: 2 })
    const rs = Array.from({ length: 10 }, (_, i) => m.acquire(`x${i}`, [s], 0))
    // concurrency 2/3 → 1 in flight at a time.
    expect(rs.filter(granted).length).toBe(1)
    m.release(rs[0] as RateGrant, 0)
    const more = Array.from({ length: 10 }, (_, i) => {
      const r = m.acquire(`y${i}`, [s], 0)
      if (granted(r)) m.release(r, 0)
      return r
    })
    // rpm 10/3 → 3 a minute, one of which was taken.
    expect(more.filter(granted).length).toBe(2)
  })
})
