/** `tollgate serve`: run the gateway. */
import { defineCommand } from 'citty'
import { createGateway } from '../gateway'
import { handleReload, handleSignals, serve } from '../server'
import { raiseOpenFilesLimit } from '../proxy/rlimit'
import { configArg, configPath, loadOrExit } from './shared'

/** Bun's fetch runs at most this many upstream requests at once unless told otherwise at process start. */
const MAX_HTTP_REQUESTS = '65336'

export const serveCommand = defineCommand({
  meta: { name: 'serve', description: 'Run the gateway' },
  args: {
    ...configArg,
    listen: { type: 'string', description: 'HOST:PORT to listen on (overrides server.listen)' },
  },
  async run({ args }) {
    if (!process.env.BUN_CONFIG_MAX_HTTP_REQUESTS) return reexecWithFetchLimit()
    raiseOpenFilesLimit()
    const loaded = await loadOrExit(args.config)
    const gw = await createGateway(loaded)
    const server = await serve(gw, args.listen ?? loaded.config.server.listen, configPath(args.config))
    handleSignals(server.stop)
    handleReload(gw, configPath(args.config), server)
  },
})

/**
 * The fetch concurrency limit is read only at process start, so the gateway re-runs
 * itself once with it set (256 would cap concurrent upstream streams).
 */
async function reexecWithFetchLimit(): Promise<void> {
  const compiled = import.meta.path.startsWith('/$bunfs/')
  const argv = compiled ? [process.execPath, ...process.argv.slice(2)] : [process.execPath, ...process.argv.slice(1)]
  const child = Bun.spawn(argv, {
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: MAX_HTTP_REQUESTS, TOLLGATE_SUPERVISOR_PID: String(process.pid) },
    stdio: ['inherit', 'inherit', 'inherit'],
  })
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig))
  process.exit(await child.exited)
}
