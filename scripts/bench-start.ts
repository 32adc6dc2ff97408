/**
 * Cold start of the built executable: from spawning `tollgate serve` to the first 200 on
 * /health, RUNS times on a fresh database each, with the start-up steps the binary reports
 * (TOLLGATE_STARTUP_TIMING=1: ms since process start when each step ends: modules loaded,
 * config read, database opened and migrated, keys, spend ledger, telemetry, admin, gateway
 * built, listener open). `bun scripts/bench-start.ts [BINARY...] [RUNS]` (default
 * dist/tollgate, 15); with several binaries the runs interleave (a, b, a, b, …), so a change
 * in the machine's load hits each alike. BENCH_WARM=1 times a restart on a migrated database.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const args = process.argv.slice(2)
const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 15)
const bins = args.filter((a) => !/^\d+$/.test(a)).map((b) => resolve(b))
if (!bins.length) bins.push(resolve(join(import.meta.dir, '../dist/tollgate')))
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!

async function once(bin: string, limitSet: boolean): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'tg-start-'))
  try {
    // BENCH_WARM=1: a restart (the database exists and is migrated), not a first start.
    if (process.env.BENCH_WARM) await start(bin, limitSet, dir)
    return await start(bin, limitSet, dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function start(bin: string, limitSet: boolean, dir: string): Promise<Record<string, number>> {
  const port = 20000 + Math.floor(Math.random() * 20000)
  writeFileSync(join(dir, 'config.toml'), `[server]\nlisten = "127.0.0.1:${port}"\n[database]\nurl = "file:${join(dir, 't.db')}"\n[[projects]]\nid = "p"\n`)
  const env: Record<string, string> = { PATH: '/usr/bin:/bin', HOME: dir, TOLLGATE_STARTUP_TIMING: '1' }
  if (limitSet) env.BUN_CONFIG_MAX_HTTP_REQUESTS = '65336'
  const t0 = performance.now()
  const proc = Bun.spawn([bin, 'serve'], { cwd: dir, env, stdout: 'ignore', stderr: 'pipe' })
  let exited = false
  void proc.exited.then(() => (exited = true))
  try {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status === 200, () => false)
      if (ok) break
      // A port taken by something else, or a failed start: say why rather than wait.
      if (exited) throw new Error(`${bin} exited (${proc.exitCode}) before /health answered: ${await new Response(proc.stderr).text()}`)
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
  }
}

/** Another process on the random port (other benches, tests): try again on another port. */
async function run(bin: string, limitSet: boolean): Promise<Record<string, number>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await once(bin, limitSet)
    } catch (e) {
      if (attempt >= 5 || !String(e).includes('EADDRINUSE')) throw e
    }
  }
}

const all = bins.map(() => [] as Record<string, number>[])
// BENCH_UNSET_LIMIT=1: start without BUN_CONFIG_MAX_HTTP_REQUESTS (older builds re-executed then).
for (let i = 0; i < runs; i++) for (const [j, bin] of bins.entries()) all[j]!.push(await run(bin, !process.env.BENCH_UNSET_LIMIT))
const keys = ['modules', 'config', 'database', 'keys', 'spend', 'telemetry', 'admin', 'gateway', 'listen', 'health']
for (const [j, bin] of bins.entries()) {
  console.log(`${bin}, ${runs} runs, medians in ms since spawn/process start:`)
  for (const k of keys) {
    const xs = all[j]!.map((r) => r[k]).filter((x): x is number => x !== undefined)
    if (xs.length) console.log(`  ${k.padEnd(9)} ${median(xs).toFixed(1)}`)
  }
}
