/**
 * Benchmark rows for limits shared through Redis: one instance with spend limits and rate
 * limits on the bench key, first in memory on the embedded libSQL file (one process), then
 * with `[cluster] redis_url` (a private redis-server on loopback), then as a cluster member
 * runs: PostgreSQL (a private throwaway cluster, test/support/postgres.ts) and Redis. The p50
 * difference between the first two is what the Redis round trips cost a request (rate-limit
 * admission and budget reservation; settlements are not waited for); the raw round trip of
 * one script is measured too and shown in the row name. Skipped, with a note, when
 * redis-server is not installed; the PostgreSQL row likewise without PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Redis from 'ioredis'
import type { RowFactory, Target } from './bench'

import { postgresUnavailable, startPostgres } from '../test/support/postgres'

type StartTollgate = (stub: string, extraToml?: string, opts?: { database?: string }) => Promise<string>

/** Rate limits on the bench key that never refuse (its spend limits are in bench.ts's base config), so every request pays for checking them. */
const LIMITS = 'rate_limits = { rpm = 100000000, tpm = 1000000000000, concurrency = 100000 }\n'

async function startRedis(): Promise<{ url: string; stop(): void }> {
  const bin = Bun.which('redis-server')
  if (!bin) throw new Error('redis-server is not installed (apt-get install redis-server)')
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-redis-'))
  const l = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = l.port
  l.stop(true)
  const p = Bun.spawn([bin, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdout: 'ignore', stderr: 'ignore' })
  const url = `redis://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    r.on('error', () => {})
    try {
      await r.connect()
      r.disconnect()
      break
    } catch {
      r.disconnect()
      if (i > 250) throw new Error('redis-server did not start')
      await Bun.sleep(20)
    }
  }
  process.on('exit', () => {
    p.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })
  return { url, stop: () => p.kill('SIGKILL') }
}

/** p50 of one EVALSHA round trip on loopback (the unit a request pays twice on admission). */
async function roundTripP50(url: string): Promise<number> {
  const r = new Redis(url)
  const sha = (await r.script('LOAD', "return redis.call('EXISTS', KEYS[1])")) as string
  const xs: number[] = []
  for (let i = 0; i < 2200; i++) {
    const t = performance.now()
    await r.evalsha(sha, 1, 'tollgate:ready')
    if (i >= 200) xs.push(performance.now() - t)
  }
  r.disconnect()
  xs.sort((a, b) => a - b)
  return xs[Math.floor(xs.length / 2)]!
}

export function clusterRows(startTollgate: StartTollgate, key: string): { name: string; make: RowFactory }[] {
  let rtt: number | undefined
  const noPg = postgresUnavailable()
  if (noPg) console.error(`bench: the PostgreSQL + Redis row is skipped (${noPg})`)
  const pgRow = {
    name: 'tollgate on PostgreSQL + Redis, limits + rate limits',
    make: async (stub: string): Promise<Target> => {
      const database = await (await startPostgres()).createDatabase('bench')
      // Its own Redis: budgets and rate limits of the other Redis row's instance stay apart.
      const url = await startTollgate(stub, `${LIMITS}[cluster]\nredis_url = "${(await startRedis()).url}"\n`, { database })
      return { name: '', base: `${url}/openai`, headers: { authorization: `Bearer ${key}` } }
    },
  }
  return [
    {
      name: 'tollgate, limits + rate limits (memory)',
      make: async (stub): Promise<Target> => ({ name: '', base: `${await startTollgate(stub, LIMITS)}/openai`, headers: { authorization: `Bearer ${key}` } }),
    },
    {
      // Read after make(): carries the measured round trip.
      get name() {
        return `tollgate + Redis, limits + rate limits${rtt === undefined ? '' : ` (Redis RTT p50 ${rtt.toFixed(3)} ms)`}`
      },
      make: async (stub): Promise<Target> => {
        const { url: redisUrl } = await startRedis()
        rtt = await roundTripP50(redisUrl)
        const url = await startTollgate(stub, `${LIMITS}[cluster]\nredis_url = "${redisUrl}"\n`)
        return { name: '', base: `${url}/openai`, headers: { authorization: `Bearer ${key}` } }
      },
    },
    ...(noPg ? [] : [pgRow]),
  ]
}
