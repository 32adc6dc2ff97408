/**
 * Hard limits under concurrency: 200 concurrent streamed requests (official OpenAI SDK)
 * against a budget worth about 10 requests, with an upstream reporting fixed usage. Spend
 * may pass the limit by at most one request's cost, on every repetition: on one key, across
 * several keys of one user, and across several keys of one project.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { RateLimitError } from 'openai'
import { type TestGateway } from '../support/gateway'
import type { ScopeKind } from '../../src/spend/budget'
import { costOf, startFixedUpstream, type ScriptedUpstream } from './upstream'
import { eventually, inflight, openai, openaiProvider, spendGateway, windowOf, ledgerRows } from './helpers'

const REPS = 20
const CONCURRENT = 200
const USAGE = { prompt: 20, completion: 100 }
const ONE = costOf(USAGE)
const LIMIT_USD = (10 * ONE + ONE / 2) / 1e9

function config(url: string): string {
  let toml = openaiProvider(url)
  for (let r = 0; r < REPS; r++) {
    // Scenario 1: one key with its own limit.
    toml += `[[projects]]\nid = "solo-${r}"\n[[keys]]\nid = "solo-${r}"\nproject = "solo-${r}"\nkey = "tg-race-solo-${r}"\nlimits = { daily = ${LIMIT_USD} }\n`
    // Scenario 2: four keys of one user, the limit on the user.
    toml += `[[projects]]\nid = "up-${r}"\n[[users]]\nid = "u-${r}"\nprojects = ["up-${r}"]\nlimits = { daily = ${LIMIT_USD} }\n`
    for (let k = 0; k < 4; k++) toml += `[[keys]]\nid = "u-${r}-${k}"\nproject = "up-${r}"\nuser = "u-${r}"\nkey = "tg-race-u-${r}-${k}"\n`
    // Scenario 3: project keys and personal keys of one project, the limit on the project.
    toml += `[[projects]]\nid = "p-${r}"\nlimits = { weekly = ${LIMIT_USD} }\n[[users]]\nid = "pu-${r}"\nprojects = ["p-${r}"]\n`
    for (let k = 0; k < 4; k++) toml += `[[keys]]\nid = "p-${r}-${k}"\nproject = "p-${r}"\n${k % 2 ? `user = "pu-${r}"\n` : ''}key = "tg-race-p-${r}-${k}"\n`
  }
  return toml
}

let upstream: ScriptedUpstream
let gw: TestGateway

beforeAll(async () => {
  upstream = startFixedUpstream({ usage: USAGE, chunks: 3, delayMs: 1 })
  gw = await spendGateway(config(upstream.url))
})
afterAll(async () => {
  await gw.stop()
  upstream.stop()
})

/**
 * 200 concurrent streams, then smaller waves until one admits nothing: the later waves spend
 * the last of the budget, where a request is admitted only with nothing else in flight.
 */
async function burst(keys: string[], scope: [ScopeKind, string]): Promise<{ ok: number; refused: RateLimitError[] }> {
  let ok = 0
  const refused: RateLimitError[] = []
  for (let n = CONCURRENT; ; n = 20) {
    const wave = await once(keys, n)
    ok += wave.ok
    refused.push(...wave.refused)
    // A client may finish reading before the gateway has seen the upstream's end.
    await eventually(() => inflight(gw, scope[0], scope[1]) === 0)
    if (!wave.ok) return { ok, refused }
  }
}

async function once(keys: string[], n: number): Promise<{ ok: number; refused: RateLimitError[] }> {
  const clients = keys.map((k) => openai(gw, k))
  let ok = 0
  const refused: RateLimitError[] = []
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      try {
        const stream = await clients[i % clients.length]!.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Say hi.' }], max_tokens: USAGE.completion, stream: true })
        for await (const _chunk of stream) {
          // read to the end
        }
        ok++
      } catch (e) {
        if (!(e instanceof RateLimitError)) throw e
        refused.push(e)
      }
    }),
  )
  return { ok, refused }
}

const limitNanos = Math.round(LIMIT_USD * 1e9)

describe('race: spend never passes a limit by more than one request', () => {
  test(`one key, ${REPS} × ${CONCURRENT} concurrent streams`, async () => {
    for (let r = 0; r < REPS; r++) {
      const { ok, refused } = await burst([`tg-race-solo-${r}`], ['key', `solo-${r}`])
      const w = windowOf(gw, 'key', `solo-${r}`, 'day')
      expect(w.spent).toBe(ok * ONE)
      expect(w.spent).toBeLessThanOrEqual(limitNanos + ONE)
      // The last cents were spent too: the budget ends within one request of its limit, on either side.
      expect(w.spent).toBeGreaterThan(limitNanos - ONE)
      expect(ok + refused.length).toBeGreaterThanOrEqual(CONCURRENT)
      expect(w.reserved).toBe(0)
      expect(inflight(gw, 'key', `solo-${r}`)).toBe(0)
      const e = refused[0]!
      expect((e.error as { type?: string }).type).toBe('insufficient_quota')
      expect(e.headers.get('x-should-retry')).toBe('false')
      expect(Number(e.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(e.message).toContain(`key "solo-${r}"`)
    }
  })

  test(`four keys of one user, ${REPS} repetitions`, async () => {
    for (let r = 0; r < REPS; r++) {
      const { ok } = await burst([0, 1, 2, 3].map((k) => `tg-race-u-${r}-${k}`), ['user', `u-${r}`])
      const w = windowOf(gw, 'user', `u-${r}`, 'day')
      expect(w.spent).toBe(ok * ONE)
      expect(w.spent).toBeLessThanOrEqual(limitNanos + ONE)
      expect(w.spent).toBeGreaterThan(limitNanos - ONE)
      expect(w.reserved).toBe(0)
    }
  })

  test(`project keys and personal keys of one project, ${REPS} repetitions`, async () => {
    for (let r = 0; r < REPS; r++) {
      const { ok } = await burst([0, 1, 2, 3].map((k) => `tg-race-p-${r}-${k}`), ['project', `p-${r}`])
      const w = windowOf(gw, 'project', `p-${r}`, 'week')
      expect(w.spent).toBe(ok * ONE)
      expect(w.spent).toBeLessThanOrEqual(limitNanos + ONE)
      expect(w.spent).toBeGreaterThan(limitNanos - ONE)
      expect(w.reserved).toBe(0)
    }
    // The ledger agrees with the counters: one settled row per admitted request, none left open.
    const rows = await ledgerRows(gw)
    expect(rows.filter((r) => r.state === 'reserved')).toEqual([])
    const byProject = new Map<string, number>()
    for (const r of rows) byProject.set(r.project, (byProject.get(r.project) ?? 0) + r.costNanos)
    for (let r = 0; r < REPS; r++) expect(byProject.get(`p-${r}`)).toBe(windowOf(gw, 'project', `p-${r}`, 'total').spent)
  })
})
