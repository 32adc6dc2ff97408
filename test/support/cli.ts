/** Runs the real CLI (`bun src/cli.ts …`) as a subprocess. */
import { join } from 'node:path'

export const ROOT = join(import.meta.dir, '../..')
export const BUN = process.execPath

export async function cli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const p = Bun.spawn([BUN, join(ROOT, 'src/cli.ts'), ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  return { stdout, stderr, code }
}

/** Starts `serve` and resolves once it printed its start-up line. */
export async function serve(args: string[], opts: { cwd?: string; env?: Record<string, string>; cmd?: string[] } = {}) {
  const p = Bun.spawn([...(opts.cmd ?? [BUN, join(ROOT, 'src/cli.ts')]), 'serve', ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const reader = p.stdout.getReader()
  let out = ''
  const deadline = Date.now() + 20_000
  while (!out.includes('listening on')) {
    if (Date.now() > deadline) throw new Error(`serve did not start: ${out}`)
    const { done, value } = await reader.read()
    if (done) throw new Error(`serve exited: ${out} ${await new Response(p.stderr).text()}`)
    out += new TextDecoder().decode(value)
  }
  const url = /listening on (https?:\/\/\S+)/.exec(out)![1]!
  const rest = (async () => {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return out
      out += new TextDecoder().decode(value)
    }
  })()
  return { proc: p, url, firstLine: out, output: () => rest }
}

/**
 * Starts `serve` as its own process on `port` (BUN_CONFIG_MAX_HTTP_REQUESTS set, as the unit and
 * image set it), and waits for /health.
 */
export async function spawnServe(configPath: string, port: number, procs: ReturnType<typeof Bun.spawn>[]): Promise<{ proc: ReturnType<typeof Bun.spawn>; output: () => string }> {
  const proc = Bun.spawn([BUN, join(ROOT, 'src/cli.ts'), 'serve', '--config', configPath, '--listen', `127.0.0.1:${port}`], {
    cwd: ROOT,
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: '1024', TOLLGATE_OTEL: '' },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  procs.push(proc)
  let out = ''
  void (async () => {
    for await (const c of proc.stdout as ReadableStream<Uint8Array>) out += new TextDecoder().decode(c)
  })()
  for (let i = 0; ; i++) {
    if (await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)) break
    if (i > 400) throw new Error(`gateway did not start: ${out}`)
    await Bun.sleep(25)
  }
  return { proc, output: () => out }
}
