/** Starts a real gateway on loopback with a config written inline, on a fresh database file. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/load'
import { createGateway, type Gateway, type GatewayOptions } from '../../src/gateway'
import { listen, serve, type Listening } from '../../src/server'
import { createTestDatabase, dropTestDatabase } from './postgres'

export interface TestGateway {
  url: string
  /** The listener: TLS and HTTP/2 details when `[server]` turns them on. */
  server: Listening
  gw: Gateway
  dir: string
  /** The gateway's `database.url` (a file in `dir`, or a PostgreSQL database of its own). */
  databaseUrl: string
  stop(): Promise<void>
}

export interface TestGatewayOptions extends GatewayOptions {
  env?: Record<string, string>
  /**
   * `libsql` (a file in the temp dir) or `postgres` (a new database on the test cluster,
   * test/support/postgres.ts). Default: `$TOLLGATE_TEST_DB`, else libsql; so
   * `TOLLGATE_TEST_DB=postgres bun test test/conformance` runs a suite on PostgreSQL.
   */
  database?: 'libsql' | 'postgres'
}

/** Canary secrets: fake-looking so scanners ignore them, distinctive so leak checks find them. */
export const CANARY = {
  gatewayKey: 'tg-test-CANARY-gateway-key-0000000000000001',
  openaiKey: 'sk-test-CANARY-openai-0000000000000000000001',
  anthropicKey: 'sk-ant-test-CANARY-anthropic-00000000000001',
  groqKey: 'gsk_test_CANARY_groq_000000000000000000001',
}

/** Listens (a free loopback port by default) without printing the start-up line. */
export function listenQuietly(gw: Gateway, address = '127.0.0.1:0'): Listening {
  const log = console.log
  console.log = () => {}
  try {
    return listen(gw, address, 'test.toml')
  } finally {
    console.log = log
  }
}

/** As `tollgate serve` listens (the front listener when `[server]` sets TLS or HTTP/2), quietly. */
export async function serveQuietly(gw: Gateway, address = '127.0.0.1:0'): Promise<Listening> {
  const log = console.log
  console.log = () => {}
  try {
    return await serve(gw, address, 'test.toml')
  } finally {
    console.log = log
  }
}

export async function startGateway(toml: string, opts: TestGatewayOptions = {}): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-test-'))
  const engine = opts.database ?? (process.env.TOLLGATE_TEST_DB === 'postgres' ? 'postgres' : 'libsql')
  const databaseUrl = engine === 'postgres' ? await createTestDatabase() : `file:${join(dir, 'test.db')}`
  // Per-request log lines are noise in test output unless a test asks for them.
  const logging = /^\[logging\]/m.test(toml) ? '' : '\n[logging]\nlevel = "off"\n'
  const full = `${toml}${logging}\n\n[database]\nurl = "${databaseUrl}"\n\n[log]\nflush_interval_ms = 50\n`
  const loaded = await parseConfig(full, 'test.toml', { ...process.env, ...opts.env })
  // Test databases are always empty; the admin setup-link line is noise here.
  const gw = await createGateway(loaded, { announce: () => {}, ...opts })
  const server = await serveQuietly(gw)
  return {
    url: server.url,
    server,
    gw,
    dir,
    databaseUrl,
    async stop() {
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
      if (engine === 'postgres') await dropTestDatabase(databaseUrl)
    },
  }
}

/** A config with one project, one config key (the canary) and the given providers. */
export function basicConfig(providers: string, extra = ''): string {
  return `
${providers}

[[projects]]
id = "default"

[[users]]
id = "alice"
role = "admin"
projects = ["default"]

[[keys]]
id = "test-key"
project = "default"
user = "alice"
key = "${CANARY.gatewayKey}"
${extra}
`
}
