/**
 * The crash sweep in a cluster: an instance starting beside live ones on the same PostgreSQL
 * leaves their in-flight reservations alone (they settle exactly once, credits drawn once),
 * and still sweeps what a dead instance left open.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { cli } from '../support/cli'
import { clusterAvailable, startCluster, until, type TestCluster } from './harness'
import { rawPost } from './raw-http'
import { GPT4O, startStubUpstream, type StubUpstream } from './upstream'

const secret = (id: string) => `tg-sweep-${id}-`.padEnd(48, '0')
/** A stream paused between its six chunks: open for about two seconds. */
const SLOW = JSON.stringify({ model: 'gpt-4o', stream: true, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }], x_delay_ms: 350 })
const C = Buffer.byteLength(SLOW) * GPT4O.input + 20 * GPT4O.output
const DEAD_RESERVED = 777_000

function toml(upstream: string): string {
  return `
[[providers]]
id = "openai"
api = "openai"
base_url = "${upstream}/v1"
api_key = "sk-test-CANARY-sweep-upstream-00000000001"
managed = true

[[projects]]
id = "m"

[[keys]]
id = "managed"
project = "m"
key = "${secret('managed')}"

[[keys]]
id = "limited"
project = "m"
key = "${secret('limited')}"
limits = { total = ${(1000 * C) / 1e9} }
`
}

const run = clusterAvailable('test/cluster/sweep.test.ts')

describe.skipIf(!run)('start-up sweep beside live instances', () => {
  let stub: StubUpstream
  let cluster: TestCluster
  beforeAll(async () => {
    stub = startStubUpstream()
    cluster = await startCluster({ toml: toml(stub.url), instances: 2 })
  }, 60_000)
  afterAll(async () => {
    await cluster?.stop()
    stub?.stop()
  })

  test('a third instance leaves the live instances’ open reservations alone and sweeps a dead one’s; each settles once', async () => {
    const sql = cluster.sql
    const added = await cli(['credits', 'add', '--config', cluster.configPath, '--project', 'm', '--usd', '1'])
    expect(added.code).toBe(0)
    // The instances read new top-ups every 2 s.
    const [a, b] = cluster.instances as [(typeof cluster.instances)[0], (typeof cluster.instances)[0]]
    const post = (url: string, key: string) => rawPost(url, '/openai/chat/completions', { authorization: `Bearer ${secret(key)}` }, SLOW)
    // One admitted request per instance (refusals before that reserve nothing).
    await Promise.all([a, b].map((i) => until(async () => (await post(i.url, 'managed')).status === 200, 10_000, 'credits seen')))

    // A reservation a dead instance left behind (no lease, its instance gone from the heartbeat set).
    await sql`INSERT INTO spend_ledger (id, request_id, ts, key_id, project, provider, model, state, reserved_nanos, managed, instance)
              VALUES ('dead-1', 'dead-1', ${Date.now()}, 'managed', 'm', 'openai', 'gpt-4o', 'reserved', ${DEAD_RESERVED}, true, 'gone:1:abcdef')`

    // Streams in flight on both live instances: managed (no lease in Redis) and limited (leased).
    const streams = [post(a.url, 'managed'), post(b.url, 'managed'), post(a.url, 'limited'), post(b.url, 'limited')]
    await until(async () => Number((await sql`SELECT count(*) AS n FROM spend_ledger WHERE state = 'reserved' AND id <> 'dead-1'`)[0]!.n) === 4, 5000, 'four reservations in the ledger')
    const owners = await sql`SELECT DISTINCT instance FROM spend_ledger WHERE state = 'reserved' AND id <> 'dead-1'`
    expect(owners.length).toBe(2)
    expect(owners.every((o) => typeof o.instance === 'string' && o.instance.length > 0)).toBe(true)

    const c = await cluster.add()
    // The newcomer swept the dead row only, while the four streams were still open.
    expect(c.out()).toMatch(/swept 1 reservation/)
    const open = await sql`SELECT id, state FROM spend_ledger WHERE id <> 'dead-1' AND state = 'reserved'`
    expect(open.length).toBe(4)
    const dead = (await sql`SELECT state, note, cost_nanos FROM spend_ledger WHERE id = 'dead-1'`)[0]!
    expect(dead).toMatchObject({ state: 'recovered', note: 'crash' })
    expect(Number(dead.cost_nanos)).toBe(DEAD_RESERVED)

    const done = await Promise.all(streams)
    for (const r of done) {
      expect(r.status).toBe(200)
      expect(r.body).toContain('[DONE]')
    }
    await until(async () => Number((await sql`SELECT count(*) AS n FROM spend_ledger WHERE state = 'reserved'`)[0]!.n) === 0, 5000, 'every reservation settled')
    const rows = await sql`SELECT id, state, note, cost_nanos FROM spend_ledger WHERE id <> 'dead-1'`
    // The two warm-up requests and the four streams: all settled at their real cost, none by a sweep.
    expect(rows.length).toBe(6)
    // (The gateway asks the upstream for stream usage, so the body it sends, and the cost, is a little larger than C.)
    const cost = Number(rows[0]!.cost_nanos)
    expect(cost).toBeGreaterThanOrEqual(C)
    for (const r of rows) {
      expect(r.state).toBe('settled')
      expect(r.note).not.toBe('crash')
      expect(Number(r.cost_nanos)).toBe(cost)
    }
    // Credits drawn exactly once per managed row, and in total what the ledger charged.
    const usage = await sql`SELECT ledger_id, count(*) AS n, sum(-amount_nanos) AS drawn FROM credit_ledger WHERE kind = 'usage' GROUP BY ledger_id`
    expect(usage.length).toBe(7)
    for (const u of usage) expect(Number(u.n)).toBe(1)
    const [totals] = await sql`SELECT (SELECT sum(cost_nanos) FROM spend_ledger WHERE managed) AS charged, (SELECT sum(-amount_nanos) FROM credit_ledger WHERE kind = 'usage') AS drawn`
    expect(Number(totals!.drawn)).toBe(Number(totals!.charged))
    expect(Number(totals!.charged)).toBe(6 * cost + DEAD_RESERVED)
    // Redis agrees on the leased key's spend (two streams).
    expect(Number(await cluster.redis.client().hget('tollgate:b:key:limited', 'tp'))).toBe(2 * cost)
  }, 40_000)
})
