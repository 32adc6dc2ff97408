/**
 * A private redis-server for a test: a free loopback port, a temp directory, no persistence.
 * Tests that need one skip, printing why, when `redis-server` is not installed (Debian:
 * `apt-get install redis-server`); `TOLLGATE_REQUIRE_REDIS=1` (CI) turns that into a failure.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import Redis from 'ioredis'
import { freePort } from './ports'

export const REDIS_BIN = Bun.which('redis-server')

/** True when tests needing Redis can run; prints the reason once otherwise. */
export function redisAvailable(suite: string): boolean {
  if (REDIS_BIN) return true
  if (process.env.TOLLGATE_REQUIRE_REDIS === '1') throw new Error(`${suite}: redis-server required (TOLLGATE_REQUIRE_REDIS=1) but not installed`)
  console.warn(`SKIPPED ${suite}: redis-server is not installed (apt-get install redis-server)`)
  return false
}

export interface TestRedis {
  url: string
  port: number
  /** A client for assertions (lazy). */
  client(): Redis
  /** Stops the server (SHUTDOWN NOSAVE): its data is gone. */
  stop(): Promise<void>
  /** Starts it again on the same port, empty. */
  start(): Promise<void>
  /** Stops and removes everything. */
  close(): Promise<void>
}


export async function startRedis(): Promise<TestRedis> {
  if (!REDIS_BIN) throw new Error('redis-server is not installed')
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-redis-'))
  const port = freePort()
  let proc: Subprocess | undefined
  let c: Redis | undefined
  const launch = async () => {
    proc = Bun.spawn([REDIS_BIN, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'], {
      stdout: 'ignore',
      stderr: 'ignore',
    })
    const until = Date.now() + 5000
    for (;;) {
      const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
      probe.on('error', () => {})
      try {
        await probe.connect()
        await probe.ping()
        probe.disconnect()
        return
      } catch {
        probe.disconnect()
        if (Date.now() > until) throw new Error(`redis-server did not start on port ${port}`)
        await Bun.sleep(20)
      }
    }
  }
  const stop = async () => {
    if (!proc) return
    proc.kill('SIGKILL')
    await proc.exited
    proc = undefined
  }
  await launch()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    client() {
      if (!c) {
        c = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(n * 50, 300) })
        c.on('error', () => {})
      }
      return c
    },
    stop,
    start: launch,
    async close() {
      c?.disconnect()
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
