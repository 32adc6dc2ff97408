/**
 * The CLI and `serve` on PostgreSQL, run as users run them: check-config accepts the URL,
 * keys create/list/revoke work, a created key is served, logged and charged (spend,
 * credits), the start-up line shows the database without its password, and /ready
 * follows the database.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { cli, serve } from '../support/cli'
import { createTestDatabase, dropTestDatabase, skipWithoutPostgres } from '../support/postgres'

const noPg = skipWithoutPostgres('PostgreSQL CLI tests')
const PASSWORD = 'pw-CANARY-0000000000000001'

describe.skipIf(!!noPg)('CLI and serve on PostgreSQL', () => {
  let dir: string
  let config: string
  let url: string
  let shown: string
  let upstream: ReturnType<typeof Bun.serve>
  let running: Awaited<ReturnType<typeof serve>> | undefined

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tg-pg-cli-'))
    url = await createTestDatabase('cli')
    // The test cluster trusts loopback, so the password is carried and never checked: it only has to stay unprinted.
    const u = new URL(url)
    u.password = PASSWORD
    shown = `postgres://${u.host}${u.pathname}`
    upstream = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: () => Response.json({ id: 'c', object: 'chat.completion', model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } }),
    })
    config = join(dir, 'config.toml')
    writeFileSync(
      config,
      `[server]\nlisten = "127.0.0.1:0"\n[database]\nurl = "${u}"\n[log]\nflush_interval_ms = 50\n` +
        `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "http://127.0.0.1:${upstream.port}/v1"\napi_key = "sk-test"\n` +
        `[[projects]]\nid = "default"\n[[users]]\nid = "alice"\nprojects = ["default"]\n`,
    )
  })
  afterAll(async () => {
    running?.proc.kill('SIGKILL')
    upstream?.stop(true)
    if (url) await dropTestDatabase(url)
    rmSync(dir, { recursive: true, force: true })
  })

  test('check-config accepts a postgres:// URL', async () => {
    const r = await cli(['check-config', '--config', config])
    expect(r).toMatchObject({ code: 0, stdout: `${config}: ok\n` })
  })

  test('keys create, list, serve, spend, credits and revoke', async () => {
    const made = await cli(['keys', 'create', '--config', config, '--project', 'default', '--user', 'alice', '--name', 'pg key', '--models', 'gpt-*', '--total', '2500000'])
    expect(made.code).toBe(0)
    const secret = made.stdout.trim()
    const id = /created key (\S+)/.exec(made.stderr)![1]!
    const listed = await cli(['keys', 'list', '--config', config])
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+db\\s+default\\s+alice\\s+pg key\\s+\\S+\\s+\\S+\\s+-\\s+active`))

    running = await serve(['--config', config])
    expect(running.firstLine).toContain(`database ${shown} ·`)
    expect(running.firstLine).not.toContain(PASSWORD)
    const ready = await fetch(`${running.url}/ready`)
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready', database: 'ok' }])

    const client = new OpenAI({ apiKey: secret, baseURL: `${running.url}/openai`, maxRetries: 0 })
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
    expect(r.usage?.total_tokens).toBe(7)
    // The request log reached PostgreSQL through the batched writer.
    let logs = ''
    for (let i = 0; i < 100 && !logs.includes('gpt-4o-mini'); i++) {
      await Bun.sleep(50)
      logs = (await cli(['logs', '--config', config])).stdout
    }
    expect(logs).toMatch(new RegExp(`${id}\\s+default\\s+alice\\s+openai\\s+gpt-4o-mini\\s+200`))

    // Spend and credits read and write the PostgreSQL ledgers.
    const spend = await cli(['spend', '--config', config, '--key', id, '--window', 'total'])
    // gpt-4o-mini: 3 input and 4 output tokens at $0.15 and $0.60 per million.
    expect(spend.stdout).toMatch(new RegExp(`key\\s+${id}\\s+total\\s+\\$0\\.00000285\\s+\\$2500000\\.00\\s+\\$2499999\\.99999715`))
    expect((await cli(['credits', 'add', '--config', config, '--project', 'default', '--usd', '12.5', '--note', 'pg'])).stdout).toContain('balance $12.50')
    const balances = await cli(['credits', 'show', '--config', config, '--project', 'default'])
    expect(balances.stdout).toMatch(/default\s+\$12\.50\s+\$0\.00\s+\$0\.00\s+\$12\.50/)
    expect(balances.stdout).toMatch(/topup\s+\$12\.50\s+-\s+pg/)

    const revoked = await cli(['keys', 'revoke', '--config', config, id])
    expect(revoked.code).toBe(0)
    expect((await cli(['keys', 'list', '--config', config])).stdout).toMatch(new RegExp(`${id}.*revoked \\d{4}-`))
    // The running gateway re-reads keys every 5 s.
    let status = 200
    for (let i = 0; i < 140 && status !== 401; i++) {
      await Bun.sleep(50)
      status = (await fetch(`${running.url}/openai/v1/models`, { headers: { authorization: `Bearer ${secret}` } })).status
    }
    expect(status).toBe(401)
    expect((await cli(['keys', 'revoke', '--config', config, 'no-such-key'])).code).toBe(1)
  }, 30_000)

  test('/ready reports the database gone', async () => {
    await dropTestDatabase(url)
    const res = await fetch(`${running!.url}/ready`)
    expect([res.status, await res.json()]).toEqual([503, { status: 'not_ready', database: 'unreachable' }])
  })
})
