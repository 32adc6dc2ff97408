/**
 * Three instances behind no balancer (the test spreads requests itself), one Redis, one
 * database: spend limits and rate limits hold across them; a revoked key, a changed limit and
 * a reloaded config reach every instance at once; one instance drains its streams on SIGTERM
 * while the others carry new traffic.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { cli } from '../support/cli'
import { clusterAvailable, ready, startCluster, until, type Instance, type TestCluster } from './harness'
import { rawPost } from './raw-http'
import { GPT4O, startStubUpstream, type StubUpstream } from './upstream'

const REPS = 20
/** How long a wait for a cluster condition may take (a bound for a loaded machine, not a latency claim). */
const WAIT = 15_000
const PER_GROUP = 100
const secret = (id: string) => `tg-cluster-${id}-`.padEnd(48, '0')

/** Every request of the bound test has this body, so each costs exactly C (the stub reports usage = the estimate). */
const BODY = JSON.stringify({ model: 'gpt-4o', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] })
const BYTES = Buffer.byteLength(BODY)
const C = BYTES * GPT4O.input + 20 * GPT4O.output
const TOKENS = BYTES + 20
/** Limits worth 10.5 requests: 10 fit side by side; an 11th only as the last request with nothing in flight. */
const LIMIT_USD = (10.5 * C) / 1e9

type Group = 'sk' | 'su' | 'sp' | 'rk' | 'ru' | 'rp'
const GROUPS: Group[] = ['sk', 'su', 'sp', 'rk', 'ru', 'rp']

/** Per repetition: a key, a user (3 keys) and a project (3 keys) each with a spend limit; the same with rpm = 10. */
function boundToml(): string {
  const out: string[] = []
  const spend = `limits = { total = ${LIMIT_USD} }`
  const rpm = 'rate_limits = { rpm = 10 }'
  for (let i = 0; i < REPS; i++) {
    for (const [g, limit] of [
      ['s', spend],
      ['r', rpm],
    ] as const) {
      out.push(`[[projects]]\nid = "${g}k${i}"\n[[keys]]\nid = "${g}k${i}"\nproject = "${g}k${i}"\nkey = "${secret(`${g}k${i}`)}"\n${limit}\n`)
      out.push(`[[projects]]\nid = "${g}u${i}"\n[[users]]\nid = "${g}u${i}"\nprojects = ["${g}u${i}"]\n${limit}\n`)
      out.push(`[[projects]]\nid = "${g}p${i}"\n${limit}\n`)
      for (let j = 0; j < 3; j++) {
        out.push(`[[keys]]\nid = "${g}u${i}-${j}"\nproject = "${g}u${i}"\nuser = "${g}u${i}"\nkey = "${secret(`${g}u${i}-${j}`)}"\n`)
        out.push(`[[keys]]\nid = "${g}p${i}-${j}"\nproject = "${g}p${i}"\nkey = "${secret(`${g}p${i}-${j}`)}"\n`)
      }
    }
  }
  return out.join('\n')
}

function baseToml(upstream: string): string {
  return `
[[providers]]
id = "openai"
api = "openai"
base_url = "${upstream}/v1"
api_key = "sk-test-CANARY-cluster-upstream-000000001"

[[projects]]
id = "misc"

[[keys]]
id = "conc"
project = "misc"
key = "${secret('conc')}"
rate_limits = { concurrency = 3 }

[[keys]]
id = "tpm"
project = "misc"
key = "${secret('tpm')}"
rate_limits = { tpm = ${Math.floor(10.5 * TOKENS)} }

[[keys]]
id = "hup"
project = "misc"
key = "${secret('hup')}"
rate_limits = { rpm = 1 }

[[keys]]
id = "free"
project = "misc"
key = "${secret('free')}"

${boundToml()}
`
}

const run = clusterAvailable('test/cluster/cluster.test.ts')
let stub: StubUpstream
let cluster: TestCluster
let all: Instance[]

const send = (i: number, key: string, body = BODY) => rawPost(all[i % all.length]!.url, '/openai/chat/completions', { authorization: `Bearer ${secret(key)}` }, body)

describe.skipIf(!run)('three instances, one Redis', () => {
  beforeAll(async () => {
    stub = startStubUpstream()
    // Instance 0 runs without BUN_CONFIG_MAX_HTTP_REQUESTS, as a plain `tollgate serve` by hand does.
    cluster = await startCluster({ toml: baseToml(stub.url), reexec: [0] })
    all = cluster.instances
  }, 60_000)
  afterAll(async () => {
    await cluster?.stop()
    stub?.stop()
  })

  test(
    `600 concurrent requests over the three, ${REPS} times: spend and rpm limits worth 10 requests hold on every scope`,
    async () => {
      const sql = cluster.sql
      {
        for (let rep = 0; rep < REPS; rep++) {
          const keysOf = (g: Group) => (g[1] === 'k' ? [`${g}${rep}`] : [0, 1, 2].map((j) => `${g}${rep}-${j}`))
          const results = await Promise.all(
            GROUPS.flatMap((g) =>
              Array.from({ length: PER_GROUP }, (_, n) => {
                const keys = keysOf(g)
                return send(n, keys[n % keys.length]!).then((r) => ({ g, r }))
              }),
            ),
          )
          for (const g of GROUPS) {
            const rs = results.filter((x) => x.g === g).map((x) => x.r)
            const ok = rs.filter((r) => r.status === 200).length
            // Every other answer is the native refusal, never an error.
            for (const r of rs.filter((r) => r.status !== 200)) {
              expect(`${r.status} ${r.body}`).toStartWith('429 ')
              expect(JSON.parse(r.body).error.type).toBe(g[0] === 's' ? 'insufficient_quota' : 'rate_limit_exceeded')
            }
            if (g[0] === 's') {
              // Spend: at most one request over the limit (10.5 requests' worth): 10 or 11.
              expect(ok).toBeGreaterThanOrEqual(10)
              expect(ok).toBeLessThanOrEqual(11)
            } else expect(ok).toBe(10)
          }
        }
        // The ledger agrees: no scope spent more than its limit plus one request.
        await until(async () => Number((await sql`SELECT count(*) AS n FROM spend_ledger WHERE state = 'reserved'`)[0]!.n) === 0, 5000, 'ledger settled')
        const limit = Math.round(LIMIT_USD * 1e9)
        for (const col of ['key_id', 'user', 'project']) {
          const rows = await sql.unsafe(`SELECT "${col}" AS scope, sum(cost_nanos) AS spent FROM spend_ledger WHERE "${col}" LIKE 's%' GROUP BY "${col}"`)
          expect(rows.length).toBeGreaterThan(0)
          for (const r of rows) expect(Number(r.spent)).toBeLessThanOrEqual(limit + C)
        }
        // And Redis holds exactly what the ledger does.
        const redisSpent = Number(await cluster.redis.client().hget('tollgate:b:key:sk0', 'tp'))
        const ledgerSpent = Number((await sql`SELECT sum(cost_nanos) AS s FROM spend_ledger WHERE key_id = 'sk0'`)[0]!.s)
        expect(redisSpent).toBe(ledgerSpent)
      }
    },
    120_000,
  )

  test('concurrency and tpm limits hold across the three', async () => {
    const slow = JSON.stringify({ model: 'gpt-4o', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }], x_delay_ms: 150, x_tag: 'conc' })
    const rs = await Promise.all(Array.from({ length: 30 }, (_, n) => send(n, 'conc', slow)))
    expect(stub.peak('conc')).toBeLessThanOrEqual(3)
    expect(rs.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(3)
    expect(rs.filter((r) => r.status === 429).every((r) => JSON.parse(r.body).error.message.includes('in flight (concurrency)'))).toBe(true)

    const tp = await Promise.all(Array.from({ length: 100 }, (_, n) => send(n, 'tpm')))
    const ok = tp.filter((r) => r.status === 200).length
    // Each request reserves exactly what it uses (TOKENS): 10 side by side, an 11th only last.
    expect(ok).toBeGreaterThanOrEqual(10)
    expect(ok).toBeLessThanOrEqual(11)
    const refused = tp.find((r) => r.status === 429)!
    expect(refused.headers['x-should-retry']).toBe('true')
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0)
  }, 60_000)

  // Waits are for conditions with generous bounds, never timed assertions: under load a cli start
  // alone can take seconds, and a test that outlives bun's 5 s default gets its processes killed.
  test('a key revoked through one instance is refused by the other two, through the cluster notice', async () => {
    const made = await cli(['keys', 'create', '--config', cluster.configPath, '--project', 'misc'])
    expect(made.code).toBe(0)
    const key = made.stdout.trim()
    const id = /tg_([a-z0-9]{12})_/.exec(key)![1]!
    const call = (i: number) => rawPost(all[i]!.url, '/openai/chat/completions', { authorization: `Bearer ${key}` }, BODY)
    for (const i of [0, 1, 2]) expect((await call(i)).status).toBe(200)
    const token = (await cli(['admin-token', 'create', '--config', cluster.configPath, '--role', 'org_admin'])).stdout.trim()
    const heard = await Promise.all([1, 2].map(async (i) => (await ready(all[i]!)).json.cluster.messages_received as number))

    const revoked = await fetch(`${all[0]!.url}/admin/api/v1/keys/${id}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    expect(revoked.status).toBe(200)
    for (const i of [1, 2]) await until(async () => (await call(i)).status === 401, WAIT, `instance ${i} refuses the revoked key`)
    // Through the notice (each heard one more message), not only the 5 s refresh.
    for (const [n, i] of [1, 2].entries()) expect((await ready(all[i]!)).json.cluster.messages_received).toBeGreaterThan(heard[n]!)

    // `tollgate keys revoke` announces it too.
    const other = (await cli(['keys', 'create', '--config', cluster.configPath, '--project', 'misc'])).stdout.trim()
    for (const i of [0, 1, 2]) expect((await rawPost(all[i]!.url, '/openai/chat/completions', { authorization: `Bearer ${other}` }, BODY)).status).toBe(200)
    const cliRevoke = await cli(['keys', 'revoke', '--config', cluster.configPath, /tg_([a-z0-9]{12})_/.exec(other)![1]!])
    expect(cliRevoke.stdout).toContain('announced to the cluster')
    for (const i of [0, 1, 2]) await until(async () => (await rawPost(all[i]!.url, '/openai/chat/completions', { authorization: `Bearer ${other}` }, BODY)).status === 401, WAIT, `instance ${i} refuses`)
  }, 60_000)

  test('SIGHUP reloads config.toml on every instance without dropping requests; an invalid file is refused', async () => {
    const original = readFileSync(cluster.configPath, 'utf8')
    try {
      // rpm = 1: the second request in the minute is refused everywhere.
      expect((await send(0, 'hup')).status).toBe(200)
      for (const i of [0, 1, 2]) expect((await send(i, 'hup')).status).toBe(429)
      writeFileSync(cluster.configPath, original.replace('rate_limits = { rpm = 1 }', 'rate_limits = { rpm = 1000 }'))
      // Load across the reload: nothing dropped.
      const load = Promise.all(Array.from({ length: 300 }, (_, n) => Bun.sleep(n).then(() => send(n, 'free'))))
      const messages = await Promise.all([1, 2].map(async (i) => (await ready(all[i]!)).json.cluster.messages_received as number))
      all[0]!.proc.kill('SIGHUP')
      for (const i of [0, 1, 2]) await until(async () => (await send(i, 'hup')).status === 200, WAIT, `instance ${i} applies the new limit`)
      expect((await load).every((r) => r.status === 200)).toBe(true)
      // The two others re-read their config because instance 0 announced it.
      for (const [n, i] of [1, 2].entries()) expect((await ready(all[i]!)).json.cluster.messages_received).toBeGreaterThan(messages[n]!)

      writeFileSync(cluster.configPath, original.replace('rate_limits = { concurrency = 3 }', 'rate_limits = { concurrency = "three" }'))
      all[0]!.proc.kill('SIGHUP')
      await until(() => all[0]!.out().includes('refused; the running config stays in force'), WAIT, 'the refusal is printed')
      expect(all[0]!.out()).toContain('keys[0].rate_limits.concurrency')
      // The reloaded config (rpm = 1000) is still the one in force.
      for (let n = 0; n < 3; n++) expect((await send(0, 'hup')).status).toBe(200)
    } finally {
      writeFileSync(cluster.configPath, original)
    }
  }, 60_000)

  test('SIGTERM drains one instance’s streams while the others carry new traffic', async () => {
    const leaving = all[2]!
    const stream = fetch(`${leaving.url}/openai/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret('free')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }], x_delay_ms: 250 }),
    })
    const res = await stream
    expect(res.status).toBe(200)
    const text = res.text()
    leaving.proc.kill('SIGTERM')
    await until(async () => (await fetch(`${leaving.url}/ready`).then((r) => r.status, () => 0)) !== 200, WAIT, 'the leaving instance is not ready')
    const others = await Promise.all(Array.from({ length: 40 }, (_, n) => send(n % 2, 'free')))
    expect(others.every((r) => r.status === 200)).toBe(true)
    const body = await text
    expect(body).toContain('part3')
    expect(body.trim().endsWith('data: [DONE]')).toBe(true)
    expect(await leaving.exited).toBe(0)
    // It left the heartbeat set at once.
    await until(async () => (await ready(all[0]!)).json.cluster.instances === 2, WAIT, 'two instances counted')
  }, 60_000)
})
