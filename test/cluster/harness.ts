/**
 * Three `tollgate serve` processes on their own ports, sharing one PostgreSQL database (a fresh
 * one per cluster, dropped at stop) and one private redis-server. The command is `bun src/cli.ts` unless TOLLGATE_BIN names the built
 * binary (CI: dist/tollgate).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import postgres from 'postgres'
import { ROOT } from '../support/cli'
import { createTestDatabase, dropTestDatabase, skipWithoutPostgres } from '../support/postgres'
import { redisAvailable, startRedis, type TestRedis } from '../support/redis'

export const COMMAND = process.env.TOLLGATE_BIN ? [process.env.TOLLGATE_BIN] : [process.execPath, join(ROOT, 'src/cli.ts')]

export interface Instance {
  url: string
  proc: Subprocess
  /** Everything it printed so far (stdout and stderr). */
  out(): string
  /** Resolves with the exit code. */
  exited: Promise<number>
}

export interface TestCluster {
  dir: string
  configPath: string
  /** The shared PostgreSQL database's URL. */
  dbUrl: string
  /** A client on it, for assertions (closed by stop()). */
  sql: postgres.Sql
  redis: TestRedis
  instances: Instance[]
  /** Starts one more instance (e.g. to replace a killed one). */
  add(opts?: { reexec?: boolean }): Promise<Instance>
  /** SIGTERM to all, then removes everything. */
  stop(): Promise<void>
}

export interface ClusterOptions {
  /** Projects, users, keys, providers… (no [database], [cluster], [limits], [log] or [logging]). */
  toml: string
  instances?: number
  /** Extra [cluster] lines (e.g. on_redis_down = "local"). */
  cluster?: string
  /** Instances started without BUN_CONFIG_MAX_HTTP_REQUESTS (the others get it). */
  reexec?: number[]
}

/** True when a cluster suite can run (redis-server and PostgreSQL present); prints why not otherwise. */
export function clusterAvailable(suite: string): boolean {
  return redisAvailable(suite) && skipWithoutPostgres(suite) === undefined
}

export async function startCluster(opts: ClusterOptions): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-cluster-'))
  const redis = await startRedis()
  const dbUrl = await createTestDatabase('tg_cluster')
  const sql = postgres(dbUrl, { max: 2, onnotice: () => {} })
  const configPath = join(dir, 'config.toml')
  writeFileSync(configPath, clusterToml(opts, redis.url, dbUrl))
  const instances: Instance[] = []
  const add = async (o: { reexec?: boolean } = {}) => {
    const i = await launch(configPath, o.reexec === true)
    instances.push(i)
    return i
  }
  // All start together: the PostgreSQL migration runs once (advisory lock).
  const started = await Promise.allSettled(Array.from({ length: opts.instances ?? 3 }, (_, i) => launch(configPath, opts.reexec?.includes(i) === true)))
  for (const s of started) if (s.status === 'fulfilled') instances.push(s.value)
  const failed = started.find((s) => s.status === 'rejected')
  if (failed) {
    for (const i of instances) i.proc.kill('SIGKILL')
    await redis.close()
    await sql.end({ timeout: 1 })
    await dropTestDatabase(dbUrl).catch(() => {})
    throw (failed as PromiseRejectedResult).reason
  }
  return {
    dir,
    configPath,
    dbUrl,
    sql,
    redis,
    instances,
    add,
    async stop() {
      for (const i of instances) i.proc.kill('SIGTERM')
      await Promise.all(instances.map((i) => Promise.race([i.exited, Bun.sleep(10_000)])))
      for (const i of instances) i.proc.kill('SIGKILL')
      await redis.close()
      await sql.end({ timeout: 1 })
      await dropTestDatabase(dbUrl)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export function clusterToml(opts: ClusterOptions, redisUrl: string, dbUrl: string): string {
  return `${opts.toml}

[database]
url = "${dbUrl}"

[log]
flush_interval_ms = 50

[logging]
level = "error"

[limits]
ledger_flush_ms = 20

[cluster]
redis_url = "${redisUrl}"
lease_seconds = 2
${opts.cluster ?? ''}
`
}

async function launch(configPath: string, reexec: boolean): Promise<Instance> {
  const env: Record<string, string | undefined> = { ...process.env, TOLLGATE_CONFIG: undefined }
  if (reexec) delete env.BUN_CONFIG_MAX_HTTP_REQUESTS
  else env.BUN_CONFIG_MAX_HTTP_REQUESTS = '65336'
  const proc = Bun.spawn([...COMMAND, 'serve', '--config', configPath, '--listen', '127.0.0.1:0'], { cwd: ROOT, env, stdout: 'pipe', stderr: 'pipe' })
  let out = ''
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const d = new TextDecoder()
    for await (const chunk of s) out += d.decode(chunk)
  }
  void pump(proc.stdout)
  void pump(proc.stderr)
  const deadline = Date.now() + 30_000
  for (;;) {
    const m = /listening on (http:\/\/\S+)/.exec(out)
    if (m) return { url: m[1]!, proc, out: () => out, exited: proc.exited }
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`tollgate serve did not start:\n${out}`)
    await Bun.sleep(20)
  }
}

/** Polls until `f` holds (work that ends after the client has its answer), at most `ms`. */
export async function until(f: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`)
    await Bun.sleep(10)
  }
}

/** GET /ready of an instance. */
export async function ready(i: Instance): Promise<{ status: number; json: Record<string, any> }> {
  const r = await fetch(`${i.url}/ready`)
  return { status: r.status, json: (await r.json()) as Record<string, any> }
}
