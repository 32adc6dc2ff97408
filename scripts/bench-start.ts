/**
 * Cold start of the built executable: from spawning `tollgate serve` to the first 200 on
 * /health, RUNS times on a fresh database each, with the start-up steps the binary reports
 * (TOLLGATE_STARTUP_TIMING=1: ms since process start when modules are loaded, config read,
 * gateway built — database opened and migrated, ledger loaded — and the listener open).
 * `bun scripts/bench-start.ts [BINARY] [RUNS]` (default dist/tollgate, 15).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const bin = resolve(process.argv[2] ?? join(import.meta.dir, '../dist/tollgate'))
const runs = Number(process.argv[3] ?? 15)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!

async function once(limitSet: boolean): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'tg-start-'))
  const port = 20000 + Math.floor(Math.random() * 20000)
  writeFileSync(join(dir, 'config.toml'), `[server]\nlisten = "127.0.0.1:${port}"\n[database]\nurl = "file:${join(dir, 't.db')}"\n[[projects]]\nid = "p"\n`)
  const env: Record<string, string> = { PATH: '/usr/bin:/bin', HOME: dir, TOLLGATE_STARTUP_TIMING: '1' }
  if (limitSet) env.BUN_CONFIG_MAX_HTTP_REQUESTS = '65336'
  const t0 = performance.now()
  const proc = Bun.spawn([bin, 'serve'], { cwd: dir, env, stdout: 'ignore', stderr: 'pipe' })
  try {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status === 200, () => false)
      if (ok) break
      if (performance.now() - t0 > 20_000) throw new Error('no 200 on /health within 20 s')
      await Bun.sleep(2)
    }
    const total = performance.now() - t0
    proc.kill('SIGTERM')
    await proc.exited
    const steps: Record<string, number> = { health: total }
    for (const m of (await new Response(proc.stderr).text()).matchAll(/^startup (\w+) ([\d.]+)$/gm)) steps[m[1]!] = Number(m[2])
    return steps
  } finally {
    proc.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
}

const all: Record<string, number>[] = []
// BENCH_UNSET_LIMIT=1: start without BUN_CONFIG_MAX_HTTP_REQUESTS (older builds re-executed then).
for (let i = 0; i < runs; i++) all.push(await once(!process.env.BENCH_UNSET_LIMIT))
const keys = ['modules', 'config', 'gateway', 'listen', 'health']
console.log(`${bin}, ${runs} runs, medians in ms since spawn/process start:`)
for (const k of keys) console.log(`  ${k.padEnd(8)} ${median(all.map((r) => r[k] ?? NaN)).toFixed(1)}`)
