/** The tollgate CLI, run as users run it. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { CANARY } from '../support/gateway'
import { cli, serve } from '../support/cli'

let dir: string
let config: string
let upstream: ReturnType<typeof Bun.serve>

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tg-cli-'))
  upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    idleTimeout: 0,
    fetch: async (req) => {
      if ((await req.text()).includes('"user":"slow"')) {
        // A stream that takes a moment, to be in flight during shutdown.
        return new Response(
          new ReadableStream({
            async start(c) {
              for (let i = 0; i < 5; i++) {
                c.enqueue(new TextEncoder().encode(`data: {"n":${i}}\n\n`))
                await Bun.sleep(150)
              }
              c.close()
            },
          }),
          { headers: { 'content-type': 'text/event-stream' } },
        )
      }
      return Response.json({ id: 'c', object: 'chat.completion', model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })
    },
  })
  config = join(dir, 'config.toml')
  writeFileSync(
    config,
    `[server]\nlisten = "127.0.0.1:0"\n[database]\nurl = "file:${join(dir, 'db/t.db')}"\n[log]\nflush_interval_ms = 50\n` +
      `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "http://127.0.0.1:${upstream.port}/v1"\napi_key = "${CANARY.openaiKey}"\n` +
      `[[providers]]\nid = "groq"\napi = "groq"\napi_key = "\${GROQ_API_KEY:-}"\n` +
      `[[projects]]\nid = "default"\n[[users]]\nid = "alice"\nprojects = ["default"]\n` +
      `[[keys]]\nid = "from-config"\nproject = "default"\nkey = "${CANARY.gatewayKey}"\n`,
  )
})
afterAll(() => {
  upstream.stop(true)
  rmSync(dir, { recursive: true, force: true })
})

test('version', async () => {
  const r = await cli(['version'])
  const lines = r.stdout.trim().split('\n')
  expect(lines[0]).toMatch(/^tollgate \d+\.\d+\.\d+$/)
  expect(lines.slice(1).map((l) => l.split(' ')[0])).toEqual(['commit', 'built', 'bun', 'target'])
  expect(lines[3]).toBe(`bun ${Bun.version}`)
  expect(lines[4]).toBe(`target source (${process.platform}-${process.arch})`)
})

test('--help on every command', async () => {
  for (const c of [[], ['init'], ['serve'], ['check-config'], ['keys'], ['keys', 'create'], ['keys', 'list'], ['keys', 'revoke'], ['logs'], ['version']]) {
    const r = await cli([...c, '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout + r.stderr).toContain('USAGE')
  }
  // Ten process starts: on a loaded 2-core machine that passes the 5 s default.
}, 30_000)

test('init writes the bundled config.toml once; serve without a config points at init', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'tg-cli-init-'))
  try {
    const missing = await cli(['serve'], { cwd: empty })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('cannot read config file')
    expect(missing.stderr).toContain('tollgate init')
    const r = await cli(['init'], { cwd: empty })
    expect(r.code).toBe(0)
    expect(await Bun.file(join(empty, 'config.toml')).text()).toBe(await Bun.file(join(import.meta.dir, '../../config.toml')).text())
    const again = await cli(['init'], { cwd: empty })
    expect(again.code).not.toBe(0)
    expect(again.stderr).toContain('--force')
    expect((await cli(['init', '--force'], { cwd: empty })).code).toBe(0)
    expect((await cli(['check-config'], { cwd: empty })).code).toBe(0)
  } finally {
    rmSync(empty, { recursive: true, force: true })
  }
})

test('check-config prints every problem with its path and exits non-zero', async () => {
  const bad = join(dir, 'bad.toml')
  writeFileSync(bad, `[[providers]]\nid = "x"\napi = "nope"\n[[keys]]\nid = "k"\nproject = "missing"\nkey = "\${UNSET_VAR_FOR_TEST}"\n`)
  const r = await cli(['check-config', '--config', bad])
  expect(r.code).not.toBe(0)
  expect(r.stderr).toContain('providers[0].api: expected one of')
  expect(r.stderr).toContain('keys[0].key: environment variable UNSET_VAR_FOR_TEST is not set')
  const ok = await cli(['check-config'], { env: { TOLLGATE_CONFIG: config } })
  expect(ok.code).toBe(0)
  expect(ok.stdout).toContain('warning: provider groq is disabled')
})

describe('keys and serve', () => {
  test('create → use → list → revoke → refused; config keys cannot be revoked; logs show requests', async () => {
    const server = await serve(['--config', config, '--listen', '127.0.0.1:0'])
    try {
      expect(server.firstLine).toContain(`config ${config}`)
      expect(server.firstLine).toContain('providers enabled: openai · disabled: groq')
      const created = await cli(['keys', 'create', '--config', config, '--project', 'default', '--user', 'alice', '--name', 'laptop', '--daily', '1.5'])
      expect(created.code).toBe(0)
      const secret = created.stdout.trim()
      expect(secret).toMatch(/^tg_[a-z0-9]{12}_/)
      const id = secret.split('_')[1]!

      const client = new OpenAI({ apiKey: secret, baseURL: `${server.url}/openai`, maxRetries: 0 })
      const ok = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      expect(ok.id).toBe('c')

      const list = await cli(['keys', 'list', '--config', config])
      expect(list.stdout).toContain(id)
      expect(list.stdout).toContain('from-config')
      expect(list.stdout).not.toContain(secret)

      const cfgRevoke = await cli(['keys', 'revoke', 'from-config', '--config', config])
      expect(cfgRevoke.code).not.toBe(0)
      expect(cfgRevoke.stderr).toContain('declared in')

      const revoked = await cli(['keys', 'revoke', id, '--config', config])
      expect(revoked.code).toBe(0)
      // The running gateway refreshes keys every 5 s.
      let status = 200
      const deadline = Date.now() + 8000
      while (status !== 401 && Date.now() < deadline) {
        status = (await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [] }).catch((e) => e)).status ?? 200
        if (status !== 401) await Bun.sleep(250)
      }
      expect(status).toBe(401)

      const logs = await cli(['logs', '--config', config, '--tail', '5'])
      expect(logs.stdout).toContain(id)
      expect(logs.stdout).toContain('gpt-4o-mini')
    } finally {
      server.proc.kill('SIGTERM')
      await server.proc.exited
    }
  }, 30_000)

  test('serve runs in one process (no re-exec) and warns when BUN_CONFIG_MAX_HTTP_REQUESTS is unset', async () => {
    for (const limit of ['', '65336']) {
      const server = await serve(['--config', config, '--listen', '127.0.0.1:0'], { env: { BUN_CONFIG_MAX_HTTP_REQUESTS: limit } })
      try {
        const children = Bun.spawnSync(['pgrep', '-P', String(server.proc.pid)]).stdout.toString().trim().split('\n').filter(Boolean)
        expect(children).toEqual([])
        expect((await fetch(`${server.url}/health`)).status).toBe(200)
      } finally {
        server.proc.kill('SIGTERM')
        await server.proc.exited
      }
      const stderr = await new Response(server.proc.stderr as ReadableStream).text()
      if (limit) expect(stderr).not.toContain('BUN_CONFIG_MAX_HTTP_REQUESTS')
      else expect(stderr).toContain('warning: BUN_CONFIG_MAX_HTTP_REQUESTS is not set')
    }
  }, 30_000)

  test('SIGTERM lets an in-flight stream finish, flushes the log, exits 0', async () => {
    const server = await serve(['--config', config, '--listen', '127.0.0.1:0'])
    const res = await fetch(`${server.url}/openai/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${CANARY.gatewayKey}` }, body: '{"model":"gpt-4o-mini","messages":[],"user":"slow"}' })
    const reader = res.body!.getReader()
    await reader.read()
    server.proc.kill('SIGTERM')
    let body = ''
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      body += new TextDecoder().decode(value)
    }
    expect(body).toContain('data: {"n":4}')
    expect(await server.proc.exited).toBe(0)
    expect(await server.output()).toContain('SIGTERM: draining')
    // Only this test used the config key: its row proves the log was flushed on shutdown.
    const logs = await cli(['logs', '--config', config, '--tail', '50'])
    expect(logs.stdout).toContain('from-config')
    // New connections are refused once draining began.
    expect(await fetch(`${server.url}/health`).then(() => 'up', () => 'down')).toBe('down')
  }, 30_000)
})
