/**
 * Faults of a three-instance cluster: an instance killed with -9 under load (its reservations
 * are settled by the survivors once their lease expires), Redis restarted under load (counters
 * rebuilt from the ledger before limited keys are admitted again), and Redis away in both
 * `on_redis_down` modes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { clusterAvailable, ready, startCluster, until, type TestCluster } from './harness'
import { rawPost, type RawResponse } from './raw-http'
import { GPT4O, startStubUpstream, type StubUpstream } from './upstream'

const secret = (id: string) => `tg-faults-${id}-`.padEnd(48, '0')
const BODY = JSON.stringify({ model: 'gpt-4o', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] })
const C = Buffer.byteLength(BODY) * GPT4O.input + 20 * GPT4O.output
const usd = (requests: number) => (requests * C) / 1e9

function toml(upstream: string): string {
  const keys = ['wide', 'ten', 'nine', 'free', 'rpm9']
  const limits: Record<string, string> = {
    // Worth 1000 requests: never in the way, but held (so its reservations go through Redis).
    wide: `limits = { total = ${usd(1000)} }`,
    ten: `limits = { total = ${usd(10)} }`,
    nine: `limits = { total = ${usd(9)} }`,
    free: '',
    rpm9: 'rate_limits = { rpm = 9 }',
  }
  return `
[[providers]]
id = "openai"
api = "openai"
base_url = "${upstream}/v1"
api_key = "sk-test-CANARY-faults-upstream-0000000001"

${keys.map((k) => `[[projects]]\nid = "${k}"\n[[keys]]\nid = "${k}"\nproject = "${k}"\nkey = "${secret(k)}"\n${limits[k]}\n`).join('\n')}
`
}

const run = clusterAvailable('test/cluster/faults.test.ts')
let stub: StubUpstream

beforeAll(() => {
  stub = startStubUpstream()
})
afterAll(() => stub?.stop())

function client(cluster: TestCluster) {
  return (i: number, key: string, body = BODY): Promise<RawResponse> =>
    rawPost(cluster.instances[i % cluster.instances.length]!.url, '/openai/chat/completions', { authorization: `Bearer ${secret(key)}` }, body)
}

const spentInRedis = async (cluster: TestCluster, key: string) => Number((await cluster.redis.client().hget(`tollgate:b:key:${key}`, 'tp')) ?? 0)

describe.skipIf(!run)('on_redis_down = "closed"', () => {
  let cluster: TestCluster
  let send: ReturnType<typeof client>
  beforeAll(async () => {
    cluster = await startCluster({ toml: toml(stub.url) })
    send = client(cluster)
  }, 60_000)
  afterAll(() => cluster?.stop())

  test('kill -9 of one instance under load: the survivors settle its reservations once the lease expires; no settled spend is lost', async () => {
    const victim = cluster.instances[2]!
    const slow = JSON.stringify({ model: 'gpt-4o', stream: true, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }], x_delay_ms: 400 })
    const fast = Array.from({ length: 60 }, (_, n) => send(n, 'wide'))
    // Streams held open on every instance, the victim's among them.
    const streams = Array.from({ length: 12 }, (_, n) => send(n, 'wide', slow).catch((e: Error) => ({ status: 0, headers: {}, body: e.message })))
    const done = await Promise.all(fast)
    expect(done.every((r) => r.status === 200)).toBe(true)
    await until(async () => (await ready(victim)).json.cluster.open_reservations > 0, 3000, 'the victim holds reservations')
    victim.proc.kill('SIGKILL')
    expect(await victim.exited).not.toBe(0)
    // The survivors carry on.
    const after = await Promise.all(Array.from({ length: 20 }, (_, n) => send(n % 2, 'wide')))
    expect(after.every((r) => r.status === 200)).toBe(true)
    const finished = await Promise.all(streams)
    const completed = finished.filter((r) => r.status === 200 && r.body.includes('[DONE]')).length
    // lease_seconds = 2, swept every second: nothing may be left open a few seconds later.
    const redis = cluster.redis.client()
    await until(async () => (await redis.zcard('tollgate:bleases')) === 0 && Number(await redis.hget('tollgate:b:key:wide', 'n')) === 0, 6000, 'every lease settled')
    expect(Number(await redis.hget('tollgate:b:key:wide', 'tr'))).toBe(0)
    expect((await redis.keys('tollgate:br:*')).length).toBe(0)
    const sql = cluster.sql
    {
      await until(async () => Number((await sql`SELECT count(*) AS n FROM spend_ledger WHERE state = 'reserved'`)[0]!.n) === 0, 5000, 'no reserved row in the ledger')
      const swept = Number((await sql`SELECT count(*) AS n FROM spend_ledger WHERE note = 'lease_expired' AND state = 'recovered'`)[0]!.n)
      expect(swept).toBeGreaterThan(0)
      // Everything a client saw completed is in the counters (swept reservations count at their estimate, here the cost).
      const oks = 60 + 20 + completed
      expect(await spentInRedis(cluster, 'wide')).toBeGreaterThanOrEqual(oks * C)
      const ledger = Number((await sql`SELECT sum(cost_nanos) AS s FROM spend_ledger WHERE key_id = 'wide'`)[0]!.s)
      expect(ledger).toBeGreaterThanOrEqual((60 + 20) * C)
    }
    // Replace the victim for the tests below.
    await cluster.add()
    cluster.instances.splice(2, 1)
    await until(async () => (await ready(cluster.instances[0]!)).json.cluster.instances === 3, 5000, 'three instances again')
  }, 30_000)

  test('Redis restarted under load: counters rebuilt from the ledger, limited keys refused (503) while it is away, the bound holds', async () => {
    // Half of "ten" spent before, so the rebuild has something to remember.
    for (let n = 0; n < 5; n++) expect((await send(n, 'ten')).status).toBe(200)
    expect(await spentInRedis(cluster, 'ten')).toBe(5 * C)

    const load = Array.from({ length: 150 }, (_, n) => Bun.sleep(n * 4).then(() => Promise.all([send(n, 'ten'), send(n, 'free'), send(n, 'wide')])))
    await Bun.sleep(100)
    await cluster.redis.stop()
    // While it is away: limited keys get a native 503 naming the cause; unlimited keys pass.
    await until(async () => (await ready(cluster.instances[1]!)).json.cluster?.redis === 'down', 3000, 'Redis seen down')
    const r = await ready(cluster.instances[1]!)
    expect(r.status).toBe(200)
    expect(r.json.cluster.limited_keys).toBe('refused')
    const refused = await send(1, 'wide')
    expect(refused.status).toBe(503)
    expect(JSON.parse(refused.body).error).toMatchObject({ code: 'limits_unavailable', type: 'server_error' })
    expect(JSON.parse(refused.body).error.message).toContain('Redis')
    expect(refused.headers['x-should-retry']).toBe('true')
    expect((await send(1, 'free')).status).toBe(200)
    await Bun.sleep(200)
    await cluster.redis.start()
    const results = (await Promise.all(load)).flat()
    expect(results.every((x) => [200, 429, 503].includes(x.status))).toBe(true)
    await until(async () => (await Promise.all(cluster.instances.map(ready))).every((x) => x.json.cluster.redis === 'up'), 8000, 'every instance back')
    expect((await Promise.all(cluster.instances.map(ready))).some((x) => x.json.cluster.rebuilds >= 1)).toBe(true)
    // Fill what is left of "ten" now that Redis is back.
    const rest = await Promise.all(Array.from({ length: 30 }, (_, n) => send(n, 'ten')))
    const admitted = 5 + results.filter((x, i) => i % 3 === 0 && x.status === 200).length + rest.filter((x) => x.status === 200).length
    // The bound over the whole outage: at most one request over the limit (worth exactly 10).
    expect(admitted).toBeGreaterThanOrEqual(10)
    expect(admitted).toBeLessThanOrEqual(11)
    const sql = cluster.sql
    {
      // No open reservation, and every admitted request's row written (the last ones may still be queued in a writer).
      const spent = async () => Number((await sql`SELECT sum(cost_nanos) AS s FROM spend_ledger WHERE key_id = 'ten'`)[0]!.s)
      await until(async () => Number((await sql`SELECT count(*) AS n FROM spend_ledger WHERE key_id = 'ten' AND state = 'reserved'`)[0]!.n) === 0 && (await spent()) >= admitted * C, 5000, 'ledger settled').catch(() => {})
      const ledger = Number((await sql`SELECT sum(cost_nanos) AS s FROM spend_ledger WHERE key_id = 'ten'`)[0]!.s)
      expect(ledger).toBe(admitted * C)
      // Redis agrees with the ledger it was rebuilt from.
      expect(await spentInRedis(cluster, 'ten')).toBe(ledger)
    }
    // Unlimited traffic never stopped.
    expect(results.filter((x, i) => i % 3 === 1).every((x) => x.status === 200)).toBe(true)
  }, 30_000)
})

describe.skipIf(!run)('on_redis_down = "local"', () => {
  let cluster: TestCluster
  let send: ReturnType<typeof client>
  beforeAll(async () => {
    cluster = await startCluster({ toml: toml(stub.url), cluster: 'on_redis_down = "local"' })
    send = client(cluster)
    await until(async () => (await Promise.all(cluster.instances.map(ready))).every((x) => x.json.cluster.instances === 3), 5000, 'three instances seen by each')
  }, 60_000)
  afterAll(() => cluster?.stop())

  test('each instance enforces a 1/N share of every limit; back up, the counters include what was spent locally', async () => {
    await cluster.redis.stop()
    await until(async () => (await Promise.all(cluster.instances.map(ready))).every((x) => x.json.cluster.redis === 'down'), 3000, 'Redis seen down everywhere')
    expect((await ready(cluster.instances[0]!)).json.cluster.limited_keys).toBe('local share (1/3)')
    // rpm 9 → 3 per instance; a spend limit worth 9 requests → 3 requests' worth per instance.
    const rpm = await Promise.all(Array.from({ length: 30 }, (_, n) => send(n, 'rpm9')))
    expect(rpm.filter((r) => r.status === 200).length).toBe(9)
    const spend = await Promise.all(Array.from({ length: 30 }, (_, n) => send(n, 'nine')))
    expect(spend.filter((r) => r.status === 200).length).toBe(9)
    expect(spend.filter((r) => r.status !== 200).every((r) => r.status === 429 && JSON.parse(r.body).error.type === 'insufficient_quota')).toBe(true)

    await cluster.redis.start()
    await until(async () => (await Promise.all(cluster.instances.map(ready))).every((x) => x.json.cluster.redis === 'up'), 8000, 'every instance back')
    // The local spend reached Redis through the ledger (a scope is loaded from it on first use);
    // the local minute through each instance's own counts.
    for (const i of [0, 1, 2]) {
      expect((await send(i, 'nine')).status).toBe(429)
      expect((await send(i, 'rpm9')).status).toBe(429)
    }
    expect(await spentInRedis(cluster, 'nine')).toBe(9 * C)
  }, 30_000)
})
