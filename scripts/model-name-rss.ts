/**
 * `bun scripts/model-name-rss.ts`: the memory side of issue 14 §6, measured, not asserted. It
 * starts Tollgate as its own process (a limited key, an upstream on loopback), sends three rounds of
 * 60 requests whose model is a 2 MB string (OpenAI, Anthropic, Groq, Gemini-compatible bodies),
 * and prints the gateway's RSS before and after each round, plus the request log's largest
 * model and path. A measurement: it never fails on numbers.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ROOT = join(import.meta.dir, '..')
const KEY = 'tg-rss-key-not-a-secret-000000000000000'
const N = Number(process.env.RSS_REQUESTS ?? 60)
const ROUNDS = Number(process.env.RSS_ROUNDS ?? 3)

const stub = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => Response.json({ ok: true }) })
const dir = mkdtempSync(join(tmpdir(), 'tollgate-rss-'))
const db = join(dir, 'rss.db')
const config = join(dir, 'config.toml')
const u = `http://127.0.0.1:${stub.port}`
writeFileSync(
  config,
  `[server]\nlisten = "127.0.0.1:0"\n[database]\nurl = "file:${db}"\n[logging]\nlevel = "info"\n` +
    `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${u}/v1"\napi_key = "sk-x"\n` +
    `[[providers]]\nid = "anthropic"\napi = "anthropic"\nbase_url = "${u}"\napi_key = "sk-ant-x"\n` +
    `[[providers]]\nid = "groq"\napi = "groq"\nbase_url = "${u}"\napi_key = "gsk-x"\n` +
    `[[providers]]\nid = "gemini"\napi = "gemini"\nbase_url = "${u}"\napi_key = "g-x"\n` +
    `[[projects]]\nid = "p"\n[[keys]]\nid = "k"\nproject = "p"\nkey = "${KEY}"\nlimits = { daily = 0.01 }\n`,
)
const out = join(dir, 'stdout')
// With the fetch limit already set, `serve` does not re-execute itself: this pid is the gateway's.
const gw = Bun.spawn([process.execPath, 'src/cli.ts', 'serve', '--config', config], { cwd: ROOT, env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: '4096' }, stdout: Bun.file(out), stderr: 'inherit' })

async function url(): Promise<string> {
  for (const deadline = performance.now() + 30_000; performance.now() < deadline; ) {
    await Bun.sleep(50)
    const m = /listening on (http:\/\/\S+)/.exec(await Bun.file(out).slice(0, 64 * 1024).text().catch(() => ''))
    if (m) return m[1]!
  }
  throw new Error('the gateway did not start')
}

async function rssMb(): Promise<number> {
  // readFileSync: /proc files report size 0, which Bun.file trusts.
  const status = readFileSync(`/proc/${gw.pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024
}

try {
  const base = await url()
  const long = 'gpt-4o-mini' + 'x'.repeat(2 * 1024 * 1024)
  const routes: [string, (m: string) => unknown][] = [
    ['/openai/chat/completions', (m) => ({ model: m, messages: [{ role: 'user', content: 'hi' }] })],
    ['/anthropic/v1/messages', (m) => ({ model: m, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })],
    ['/groq/openai/v1/chat/completions', (m) => ({ model: m, messages: [{ role: 'user', content: 'hi' }] })],
    ['/gemini/v1beta/openai/chat/completions', (m) => ({ model: m, messages: [{ role: 'user', content: 'hi' }] })],
  ]
  // Warm-up: the same requests with a short name, so the first measurement is after start-up allocations.
  for (const [path, body] of routes) await (await fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${KEY}` }, body: JSON.stringify(body('gpt-4o-mini')) })).arrayBuffer()
  Bun.gc(true)
  await Bun.sleep(500)
  const before = await rssMb()
  const statuses = new Map<number, number>()
  const rounds: string[] = []
  // Three rounds: memory that a bound holds rises once (buffers, JIT) and then stays; memory that stores names keeps rising.
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < N; i++) {
      const [path, body] = routes[i % routes.length]!
      const res = await fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body(long + round + '-' + i)) })
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      await res.arrayBuffer()
    }
    const after = await rssMb()
    await Bun.sleep(3000)
    rounds.push(`round ${round + 1}: ${after.toFixed(1)} right after, ${(await rssMb()).toFixed(1)} 3 s later`)
  }
  gw.kill('SIGTERM')
  await gw.exited
  const { createClient } = await import('@libsql/client')
  const c = createClient({ url: `file:${db}` })
  const row = (await c.execute('SELECT count(*) AS n, max(length(model)) AS m, max(length(path)) AS p FROM request_log')).rows[0]!
  const ledger = (await c.execute('SELECT count(*) AS n FROM spend_ledger')).rows[0]!
  c.close()
  const logBytes = Bun.file(out).size
  console.log(`${ROUNDS} × ${N} requests with a 2 MB model name; statuses ${JSON.stringify(Object.fromEntries(statuses))}`)
  console.log(`RSS MB: before ${before.toFixed(1)}; ${rounds.join('; ')}`)
  console.log(`request_log: ${row.n} rows, longest model ${row.m ?? 0} chars, longest path ${row.p} chars; spend_ledger: ${ledger.n} rows; stdout log: ${logBytes} bytes`)
} finally {
  if (gw.exitCode === null) gw.kill('SIGKILL')
  stub.stop(true)
  rmSync(dir, { recursive: true, force: true })
}
