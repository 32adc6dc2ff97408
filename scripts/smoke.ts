/**
 * Smoke test of the built executable, as a user runs it: copied alone into an empty
 * directory (no node_modules anywhere near), started on a config there, asked for /health,
 * one proxied request to a local upstream replaying a real recording, the request log read
 * back with `tollgate logs`, then SIGTERM and a clean exit.
 * `bun scripts/smoke.ts [BINARY]`: dist/tollgate unless another executable is named.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { loadCassette } from '../test/support/recordings'
import { startReplayUpstream } from '../test/support/replay-upstream'

const fail = (msg: string): never => {
  console.error(`smoke: FAIL: ${msg}`)
  process.exit(1)
}

const dir = mkdtempSync(join(tmpdir(), 'tollgate-smoke-'))
const bin = join(dir, 'tollgate')
copyFileSync(process.argv[2] ? resolve(process.argv[2]) : join(import.meta.dir, '../dist/tollgate'), bin)
const cassette = await loadCassette('openai', 'test_max_completion_tokens[gpt-4o-mini]')
const upstream = startReplayUpstream(cassette.interactions)
const key = 'tg-smoke-key-not-a-secret-000000000000000'
writeFileSync(
  join(dir, 'config.toml'),
  `[server]\nlisten = "127.0.0.1:0"\n[log]\nflush_interval_ms = 50\n` +
    `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${upstream.url}/v1"\napi_key = "sk-test-smoke"\n` +
    `[[projects]]\nid = "default"\n[[keys]]\nid = "smoke"\nproject = "default"\nkey = "${key}"\n`,
)
const env = { PATH: '/usr/bin:/bin', HOME: dir }
{
  // `init` in an empty folder writes the bundled config.toml, which the binary carries inside.
  const fresh = join(dir, 'fresh')
  mkdirSync(fresh)
  const init = Bun.spawnSync([bin, 'init'], { cwd: fresh, env })
  if (init.exitCode !== 0) fail(`init: ${init.stderr}`)
  if (readFileSync(join(fresh, 'config.toml'), 'utf8') !== readFileSync(join(import.meta.dir, '../config.toml'), 'utf8')) fail('init wrote something else than the bundled config.toml')
  const check = Bun.spawnSync([bin, 'check-config'], { cwd: fresh, env })
  if (check.exitCode !== 0) fail(`check-config on the written config: ${check.stderr}`)
  console.log('smoke: init writes the bundled config.toml, and it checks clean')
}
const proc = Bun.spawn([bin, 'serve'], { cwd: dir, env, stdout: 'pipe', stderr: 'inherit' })
try {
  const reader = proc.stdout.getReader()
  let out = ''
  const deadline = Date.now() + 15_000
  while (!/listening on (http:\/\/\S+)/.test(out)) {
    if (Date.now() > deadline) fail(`no start-up line: ${out}`)
    const { done, value } = await reader.read()
    if (done) fail(`exited early: ${out}`)
    out += new TextDecoder().decode(value)
  }
  const url = /listening on (http:\/\/\S+)/.exec(out)![1]!
  console.log(`smoke: ${out.trim()}`)
  const health = await fetch(`${url}/health`)
  if (health.status !== 200) fail(`/health answered ${health.status}`)
  const x = cassette.interactions[0]!
  const res = await fetch(`${url}/openai/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(x.requestBody) })
  const body = await res.text()
  if (res.status !== 200 || body !== new TextDecoder().decode(x.responseBody)) fail(`proxied request: ${res.status} ${body.slice(0, 200)}`)
  console.log('smoke: /health ok; proxied chat completion equals the recording')
  proc.kill('SIGTERM')
  const code = await proc.exited
  if (code !== 0) fail(`exit code ${code} after SIGTERM`)
  const logs = Bun.spawnSync([bin, 'logs', '--tail', '5'], { cwd: dir, env })
  const text = logs.stdout.toString()
  if (!text.includes('smoke') || !text.includes('gpt-4o-mini')) fail(`request log does not show the request:\n${text}${logs.stderr}`)
  console.log('smoke: SIGTERM → exit 0; request log written by the embedded worker and migrations')
  console.log('smoke: OK')
} finally {
  proc.kill('SIGKILL')
  upstream.stop()
  rmSync(dir, { recursive: true, force: true })
}
