/**
 * `tollgate backup FILE` copies the embedded database while the gateway runs: the copy opens,
 * passes SQLite's integrity check and holds what was committed. It never overwrites a file,
 * and names the right tool for PostgreSQL.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'libsql'
import { generateKey } from '../../src/auth/key-format'
import { apiKeys, requestLog } from '../../src/db/schema'
import { basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { cli } from '../support/cli'

const TOML = basicConfig(`[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "http://127.0.0.1:9/v1"\napi_key = "sk-test-backup"\n`, `[admin]\nenabled = false\n`)
let gateway: TestGateway
let configFile: string

beforeAll(async () => {
  gateway = await startGateway(TOML, { database: 'libsql' })
  configFile = join(gateway.dir, 'config.toml')
  await Bun.write(configFile, `${TOML}\n[database]\nurl = "${gateway.databaseUrl}"\n`)
})
afterAll(async () => {
  await gateway?.stop()
})

test('a copy taken while the gateway runs opens, checks clean and holds the committed rows', async () => {
  const key = generateKey()
  await gateway.gw.database.db.insert(apiKeys).values({ id: key.id, project: 'default', keySha256: key.sha256, displayPrefix: key.displayPrefix, createdAt: 1 })
  const rows = Array.from({ length: 500 }, (_, i) => ({ id: `r${i}`, ts: i, method: 'POST', path: '/openai/chat/completions', status: 200, durationMs: 1 }))
  await gateway.gw.database.db.insert(requestLog).values(rows)
  const to = join(gateway.dir, 'copy.db')
  const run = await cli(['backup', to, '--config', configFile])
  expect(run.code).toBe(0)
  expect(run.stdout).toContain(`backup written: ${to}`)
  const copy = new Database(to, { readonly: true })
  try {
    expect(copy.prepare('PRAGMA integrity_check').get()).toMatchObject({ integrity_check: 'ok' })
    expect(copy.prepare('SELECT count(*) AS n FROM request_log').get()).toMatchObject({ n: 500 })
    expect(copy.prepare('SELECT key_sha256 FROM api_keys WHERE id = ?').get(key.id)).toMatchObject({ key_sha256: key.sha256 })
  } finally {
    copy.close()
  }
  // Never over an existing file.
  const again = await cli(['backup', to, '--config', configFile])
  expect(again.code).toBe(1)
  expect(again.stderr).toContain('already exists')
})

test('the copy is the owner\'s only (0600) under a usual umask (022)', async () => {
  const old = process.umask(0o022)
  try {
    const to = join(gateway.dir, 'private.db')
    const run = await cli(['backup', to, '--config', configFile])
    expect(run.code).toBe(0)
    expect(statSync(to).mode & 0o777).toBe(0o600)
  } finally {
    process.umask(old)
  }
})

test('PostgreSQL is pointed at pg_dump', async () => {
  const pgConfig = join(gateway.dir, 'pg.toml')
  await Bun.write(pgConfig, `${TOML}\n[database]\nurl = "postgres://tollgate@127.0.0.1:1/tollgate"\n`)
  const run = await cli(['backup', join(gateway.dir, 'pg-copy.db'), '--config', pgConfig])
  expect(run.code).toBe(1)
  expect(run.stderr).toContain('pg_dump')
})
