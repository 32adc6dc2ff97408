/**
 * PostgreSQL for tests: a throwaway cluster (initdb into a temp dir, pg_ctl on a loopback
 * port, fsync off), started once per process on first use; every test gets its own empty
 * database in it. A small watcher process stops and removes the cluster once the test
 * process is gone (bun test fires no `exit` event, and a killed run must not leave it behind).
 *
 * - `TOLLGATE_TEST_PG_URL=postgres://user@host:port/db` uses that server instead (the user
 *   must be allowed to CREATE DATABASE); a child test process inherits the parent's cluster so.
 * - Without PostgreSQL binaries (/usr/lib/postgresql/<v>/bin or PATH), tests skip and say why;
 *   `TOLLGATE_REQUIRE_PG=1` (CI) turns that into a failure.
 * - As root, initdb refuses to run: the cluster runs as the `postgres` user (Debian's
 *   packages create it) through `runuser`.
 */
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { freePort } from './ports'

export interface PgServer {
  /** An admin URL on the server (the `postgres` database). */
  adminUrl: string
  /** A new, empty database; its URL. */
  createDatabase(prefix?: string): Promise<string>
  /** Drops a database made by createDatabase, closing its connections. */
  dropDatabase(url: string): Promise<void>
}

interface Binaries {
  initdb: string
  pgCtl: string
}

function findBinaries(): Binaries | undefined {
  const root = '/usr/lib/postgresql'
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
    if (versions[0]) return { initdb: join(root, versions[0], 'bin', 'initdb'), pgCtl: join(root, versions[0], 'bin', 'pg_ctl') }
  }
  const initdb = Bun.which('initdb')
  const pgCtl = Bun.which('pg_ctl')
  return initdb && pgCtl ? { initdb, pgCtl } : undefined
}

interface RunAs {
  uid: number
  gid: number
  prefix: string[]
}

/** initdb and postgres refuse to run as root: as root, run them as `postgres`. */
function runAs(): RunAs | string {
  if (process.getuid?.() !== 0) return { uid: -1, gid: -1, prefix: [] }
  const id = Bun.spawnSync(['id', '-u', 'postgres'])
  const gid = Bun.spawnSync(['id', '-g', 'postgres'])
  const runuser = Bun.which('runuser')
  if (id.exitCode !== 0 || !runuser) return 'running as root, and there is no `postgres` user (or no runuser) to run the cluster as'
  return { uid: Number(id.stdout.toString()), gid: Number(gid.stdout.toString()), prefix: [runuser, '-u', 'postgres', '--'] }
}

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresUnavailable(): string | undefined {
  if (process.env.TOLLGATE_TEST_PG_URL) return undefined
  if (!findBinaries()) return 'PostgreSQL is not installed (no initdb/pg_ctl under /usr/lib/postgresql/*/bin or on PATH; Debian: apt-get install postgresql)'
  const as = runAs()
  return typeof as === 'string' ? as : undefined
}

/**
 * For a test file: undefined when PostgreSQL tests may run, else the reason, printed once.
 * With TOLLGATE_REQUIRE_PG=1 a missing PostgreSQL throws instead.
 */
export function skipWithoutPostgres(what: string): string | undefined {
  const reason = postgresUnavailable()
  if (!reason) return undefined
  if (process.env.TOLLGATE_REQUIRE_PG === '1') throw new Error(`${what}: PostgreSQL required (TOLLGATE_REQUIRE_PG=1) but ${reason}`)
  console.warn(`skipping ${what}: ${reason}`)
  return reason
}

let server: Promise<PgServer> | undefined

/** The process's PostgreSQL server: TOLLGATE_TEST_PG_URL's, or a cluster started now. */
export function startPostgres(): Promise<PgServer> {
  return (server ??= process.env.TOLLGATE_TEST_PG_URL ? Promise.resolve(serverAt(process.env.TOLLGATE_TEST_PG_URL)) : startCluster())
}

/** A fresh database on the process's server (the common case). */
export async function createTestDatabase(prefix?: string): Promise<string> {
  return (await startPostgres()).createDatabase(prefix)
}

export async function dropTestDatabase(url: string): Promise<void> {
  return (await startPostgres()).dropDatabase(url)
}

function serverAt(adminUrl: string): PgServer {
  const admin = async <T>(f: (sql: postgres.Sql) => Promise<T>): Promise<T> => {
    const sql = postgres(adminUrl, { max: 1, onnotice: () => {} })
    try {
      return await f(sql)
    } finally {
      await sql.end({ timeout: 1 })
    }
  }
  return {
    adminUrl,
    async createDatabase(prefix = 'tg') {
      const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
      await admin((sql) => sql.unsafe(`CREATE DATABASE "${name}" STRATEGY = FILE_COPY`))
      const u = new URL(adminUrl)
      u.pathname = `/${name}`
      return u.toString()
    },
    async dropDatabase(url) {
      const name = decodeURIComponent(new URL(url).pathname.slice(1))
      await admin((sql) => sql.unsafe(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`))
    },
  }
}


async function run(cmd: string[], what: string): Promise<void> {
  const p = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  if (code !== 0) throw new Error(`${what} failed (exit ${code}): ${err || out}`)
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/**
 * Once `pid` has exited: stop the cluster, remove its directory. The watcher runs in a
 * session of its own (setsid, backgrounded), so bun test's clean-up of dangling child
 * processes, which would otherwise kill it along with the test's children, leaves it alone.
 */
async function reapWhenGone(pid: number, stop: string[], dir: string): Promise<void> {
  const script = `while kill -0 ${pid} 2>/dev/null; do sleep 0.5; done; ${stop.map(shellQuote).join(' ')} >/dev/null 2>&1; rm -rf ${shellQuote(dir)}`
  const launcher = Bun.spawn(['sh', '-c', 'setsid sh -c "$TOLLGATE_PG_REAPER" </dev/null >/dev/null 2>&1 &'], {
    env: { ...process.env, TOLLGATE_PG_REAPER: script },
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'ignore',
  })
  await launcher.exited
}

/** A cluster of the caller's own, which it may stop and start again (a database outage). */
export interface OwnPgServer extends PgServer {
  /** `pg_ctl stop` (`fast` by default: sessions are terminated, as a restart by an operator does). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>
  /** `pg_ctl start` on the same port and data directory. */
  start(): Promise<void>
  /** Stops it for good and removes its directory. */
  destroy(): Promise<void>
}

interface Cluster {
  dir: string
  adminUrl: string
  stop(mode: 'fast' | 'immediate'): Promise<void>
  start(): Promise<void>
}

async function initCluster(): Promise<Cluster> {
  const bin = findBinaries()
  const as = runAs()
  if (!bin || typeof as === 'string') throw new Error(`PostgreSQL unavailable: ${postgresUnavailable()}`)
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-pg-'))
  if (as.uid >= 0) chownSync(dir, as.uid, as.gid)
  const data = join(dir, 'data')
  await reapWhenGone(process.pid, [...as.prefix, bin.pgCtl, '-D', data, '-m', 'immediate', 'stop'], dir)
  await run([...as.prefix, bin.initdb, '-D', data, '-A', 'trust', '-U', 'tollgate', '-E', 'UTF8', '--locale=C', '--no-sync'], 'initdb')
  let lastError: unknown
  // The port is free when picked but may be taken before postgres binds it: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = freePort()
    const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`
    const start = () => run([...as.prefix, bin.pgCtl, '-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o', opts, 'start'], 'pg_ctl start')
    try {
      await start()
      return {
        dir,
        adminUrl: `postgres://tollgate@127.0.0.1:${port}/postgres`,
        start,
        stop: (mode) => run([...as.prefix, bin.pgCtl, '-D', data, '-m', mode, '-w', '-t', '60', 'stop'], 'pg_ctl stop'),
      }
    } catch (e) {
      lastError = e
    }
  }
  throw lastError
}

async function startCluster(): Promise<PgServer> {
  return serverAt((await initCluster()).adminUrl)
}

/**
 * A PostgreSQL cluster for one test alone (its own port and data directory), to stop and start
 * again. Never stop the shared one (startPostgres): other tests use it. Not available with
 * TOLLGATE_TEST_PG_URL (a server the tests do not own).
 */
export async function startOwnPostgres(): Promise<OwnPgServer> {
  const c = await initCluster()
  return {
    ...serverAt(c.adminUrl),
    stop: (mode = 'fast') => c.stop(mode),
    start: () => c.start(),
    async destroy() {
      await c.stop('immediate').catch(() => {})
      rmSync(c.dir, { recursive: true, force: true })
    },
  }
}
