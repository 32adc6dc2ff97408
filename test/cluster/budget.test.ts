/**
 * The shared budget on one instance with an injected clock: calendar windows roll in Redis as
 * they do in memory, a limit added by a reload counts what the ledger already holds, and every
 * Lua script compiles.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { parseConfig } from '../../src/config/load'
import { RESERVE, SETTLE, SWEEP, RENEW, INIT, CONFIRM } from '../../src/cluster/budget-lua'
import { ACQUIRE, RELEASE, RENEW as RL_RENEW, RESTORE } from '../../src/ratelimit/lua'
import { HEARTBEAT, LEAVE } from '../../src/cluster/scripts'
import { startGateway, type TestGateway } from '../support/gateway'
import { redisAvailable, startRedis, type TestRedis } from '../support/redis'
import { rawPost } from './raw-http'
import { GPT4O, startStubUpstream, type StubUpstream } from './upstream'

const KEY = 'tg-budget-test-key-00000000000000000000000'
const BODY = JSON.stringify({ model: 'gpt-4o', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] })
const C = Buffer.byteLength(BODY) * GPT4O.input + 20 * GPT4O.output

const run = redisAvailable('test/cluster/budget.test.ts')

describe.skipIf(!run)('shared budget, one instance', () => {
  let redis: TestRedis
  let stub: StubUpstream
  let gw: TestGateway
  // 2027-03-31 23:00 UTC: the day, the week's Wednesday and the month all end within reach.
  let now = Date.UTC(2027, 2, 31, 23, 0, 0)
  const toml = (keyLimits: string, projectLimits = '') => `
[[providers]]
id = "openai"
api = "openai"
base_url = "${stub.url}/v1"
api_key = "sk-test-CANARY-budget-upstream-0000000001"

[[projects]]
id = "p"
${projectLimits}

[[keys]]
id = "k"
project = "p"
key = "${KEY}"
${keyLimits}

[cluster]
redis_url = "${redis.url}"
instance_id = "budget-test"
`
  beforeAll(async () => {
    redis = await startRedis()
    stub = startStubUpstream()
    gw = await startGateway(toml(`limits = { daily = ${(2 * C) / 1e9}, total = ${(3 * C) / 1e9} }`), { spendClock: () => now, logOutput: { write: async () => {} } })
  })
  afterAll(async () => {
    await gw?.stop()
    stub?.stop()
    await redis?.close()
  })
  const send = () => rawPost(gw.url, '/openai/chat/completions', { authorization: `Bearer ${KEY}` }, BODY)

  test('every Lua script compiles', async () => {
    for (const s of [RESERVE, SETTLE, SWEEP, RENEW, INIT, CONFIRM, ACQUIRE, RELEASE, RL_RENEW, RESTORE, HEARTBEAT, LEAVE]) {
      expect(await redis.client().script('LOAD', s.lua)).toBe(s.sha)
    }
  })

  test('the day rolls over in Redis; the total does not', async () => {
    expect((await send()).status).toBe(200)
    expect((await send()).status).toBe(200)
    const refused = await send()
    expect(refused.status).toBe(429)
    expect(JSON.parse(refused.body).error.message).toContain('daily limit')
    // Resets at midnight UTC, an hour away.
    expect(Number(refused.headers['retry-after'])).toBe(3600)
    now += 3600_000
    expect((await send()).status).toBe(200)
    // Three requests' total spent: the next day's budget is there, the total's is not.
    const total = await send()
    expect(total.status).toBe(429)
    expect(JSON.parse(total.body).error.message).toContain('total limit')
    const h = await redis.client().hgetall('tollgate:b:key:k')
    expect(Number(h.dp)).toBe(C)
    expect(Number(h.tp)).toBe(3 * C)
    expect(Number(h.ds)).toBe(Date.UTC(2027, 3, 1))
  })

  test('a limit added by a reload counts what the ledger already holds for the scope', async () => {
    // The project had no limit: its spend (3 requests) is only in the ledger, not in Redis.
    expect(await redis.client().exists('tollgate:b:project:p')).toBe(0)
    await gw.gw.spend.ledger.flush()
    const next = await parseConfig(toml('', `limits = { total = ${(4 * C) / 1e9} }`), 'test.toml')
    await gw.gw.reload({ ...next, config: { ...next.config, database: gw.gw.config.database } })
    expect((await send()).status).toBe(200)
    const refused = await send()
    expect(refused.status).toBe(429)
    expect(JSON.parse(refused.body).error.message).toContain('project "p"')
    expect(Number(await redis.client().hget('tollgate:b:project:p', 'tp'))).toBe(4 * C)
  })
})
