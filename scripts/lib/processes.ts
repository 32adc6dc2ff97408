/** Child processes for the benchmark scripts: start one and wait for its port, read its RSS. */
import { readFileSync } from 'node:fs'

/**
 * Spawns `cmd` in `cwd` and resolves once it prints `READY <port>` (a script's own upstream)
 * or the gateway's start-up line; the rest of its output is drained so it never blocks.
 */
export async function start(cmd: string[], cwd: string, env: Record<string, string> = {}, announce = false): Promise<{ proc: Bun.Subprocess; port: number }> {
  const proc = Bun.spawn(cmd, { cwd, env: { ...process.env, ...env }, stdout: 'pipe', stderr: 'inherit' })
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader()
  let out = ''
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const m = /READY (\d+)/.exec(out) ?? /listening on http:\/\/[^:]+:(\d+)/.exec(out)
    if (m) {
      void (async () => { for (;;) if ((await reader.read()).done) return })()
      if (announce && out.includes('listening')) console.log(out.trim().split('\n').find((l) => l.includes('listening')))
      return { proc, port: Number(m[1]) }
    }
    const { done, value } = await reader.read()
    if (done) break
    out += new TextDecoder().decode(value)
  }
  throw new Error(`did not start: ${cmd.join(' ')}: ${out}`)
}

/** Resident memory of a process, in KB (Linux). */
export function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1])
}
