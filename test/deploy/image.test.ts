/**
 * The container image's start command, run as a plain process (no container engine here): an
 * empty root holding only what the Dockerfile puts there (the config at /etc/tollgate, read-only)
 * and /data, the only writable folder; the Dockerfile's ENTRYPOINT, CMD and ENV, with paths moved
 * under that root. The gateway must come up ready on the health check's URL and write only /data.
 * Runs the built executable (TOLLGATE_BIN, else dist/tollgate; `bun src/cli.ts` if not built).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../support/ports'

const ROOT = join(import.meta.dir, '../..')
const dockerfile = readFileSync(join(ROOT, 'deploy/container/Dockerfile'), 'utf8').replace(/\\\n/g, ' ')
const instr = (name: string) => [...dockerfile.matchAll(new RegExp(`^${name} (.+)$`, 'gm'))].map((m) => m[1]!.trim())
const built = process.env.TOLLGATE_BIN ?? join(ROOT, 'dist/tollgate')
const command = existsSync(built) ? [built] : [process.execPath, join(ROOT, 'src/cli.ts')]

let root: string
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tg-image-'))
  mkdirSync(join(root, 'etc/tollgate'), { recursive: true })
  mkdirSync(join(root, 'data'))
  // COPY config.toml /etc/tollgate/config.toml
  expect(instr('COPY')).toContain('config.toml /etc/tollgate/config.toml')
  copyFileSync(join(ROOT, 'config.toml'), join(root, 'etc/tollgate/config.toml'))
  chmodSync(join(root, 'etc/tollgate/config.toml'), 0o444)
  chmodSync(join(root, 'etc/tollgate'), 0o555)
})
afterAll(() => {
  chmodSync(join(root, 'etc/tollgate'), 0o755)
  rmSync(root, { recursive: true, force: true })
})

test('the image’s ENTRYPOINT + CMD + ENV serve from an empty root, ready on the HEALTHCHECK URL, writing only /data', async () => {
  const [entrypoint] = JSON.parse(instr('ENTRYPOINT')[0]!) as string[]
  const cmd = JSON.parse(instr('CMD')[0]!) as string[]
  expect(entrypoint).toBe('/usr/local/bin/tollgate')
  const env: Record<string, string> = {}
  for (const line of instr('ENV')) for (const m of line.matchAll(/(\w+)=(\S+)/g)) env[m[1]!] = m[2]!
  expect(instr('WORKDIR')).toEqual(['/data'])
  expect(instr('VOLUME')).toEqual(['["/data"]'])
  expect(instr('USER')[0]).not.toMatch(/^(0|root)\b/)
  expect(instr('STOPSIGNAL')).toEqual(['SIGTERM'])
  const health = /CMD \[.*"(http:\/\/127\.0\.0\.1:(\d+)(\/\S*))"\]/.exec(instr('HEALTHCHECK')[0]!)!
  expect(health[3]).toBe('/ready')
  expect(env.TOLLGATE_LISTEN).toBe(`0.0.0.0:${health[2]}`)
  expect(env.BUN_CONFIG_MAX_HTTP_REQUESTS).toBe('65336')

  const under = (s: string) => s.replaceAll('/etc/tollgate', join(root, 'etc/tollgate')).replaceAll('/data', join(root, 'data'))
  const port = freePort()
  const proc = Bun.spawn([...command, ...cmd.map(under)], {
    cwd: join(root, 'data'),
    env: { ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, under(v)])), TOLLGATE_LISTEN: `127.0.0.1:${port}`, OPENAI_API_KEY: 'sk-test-image', PATH: '/usr/bin:/bin', HOME: join(root, 'data') },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  try {
    let ready = 0
    for (let i = 0; i < 300 && ready !== 200; i++) {
      ready = await fetch(`http://127.0.0.1:${port}${health[3]}`).then((r) => r.status, () => 0)
      if (ready !== 200) await Bun.sleep(50)
    }
    expect(ready).toBe(200)
    proc.kill('SIGTERM')
    expect(await proc.exited).toBe(0)
    const stderr = await new Response(proc.stderr).text()
    expect(stderr).not.toContain('BUN_CONFIG_MAX_HTTP_REQUESTS')
    expect(readdirSync(join(root, 'data'))).toContain('tollgate.db')
    expect(readdirSync(root).sort()).toEqual(['data', 'etc'])
    expect(readdirSync(join(root, 'etc/tollgate'))).toEqual(['config.toml'])
  } finally {
    proc.kill('SIGKILL')
  }
}, 30_000)
