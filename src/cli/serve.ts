/** `tollgate serve`: run the gateway. */
import { defineCommand } from 'citty'
import { createGateway } from '../gateway'
import { handleReload, handleSignals, serve } from '../server'
import { raiseOpenFilesLimit } from '../proxy/rlimit'
import { configArg, configPath, loadOrExit } from './shared'
import { ConfigError } from '../config/load'

/** What the systemd unit and the container image set; Bun's fetch default is 256. */
export const MAX_HTTP_REQUESTS = '65336'

export const serveCommand = defineCommand({
  meta: { name: 'serve', description: 'Run the gateway' },
  args: {
    ...configArg,
    listen: { type: 'string', description: 'HOST:PORT to listen on (overrides server.listen)' },
  },
  async run({ args }) {
    // TOLLGATE_STARTUP_TIMING=1: each start-up step's end, in ms since the process began (scripts/bench-start.ts).
    const mark = process.env.TOLLGATE_STARTUP_TIMING ? (step: string) => console.error(`startup ${step} ${performance.now().toFixed(1)}`) : () => {}
    mark('modules')
    warnFetchLimit()
    raiseOpenFilesLimit()
    const loaded = await loadOrExit(args.config)
    mark('config')
    const gw = await createGateway(loaded)
    mark('gateway')
    const server = await serve(gw, args.listen ?? loaded.config.server.listen, configPath(args.config)).catch(async (e) => {
      // A certificate or key file that cannot be used: said like any config problem.
      if (!(e instanceof ConfigError)) throw e
      console.error(e.message)
      await gw.close()
      process.exit(2)
    })
    mark('listen')
    handleSignals(server.stop)
    handleReload(gw, configPath(args.config), server)
  },
})

/**
 * Bun reads its fetch concurrency limit only from the environment at process start (neither
 * process.env nor setenv later changes it), so the launcher sets it. Re-executing to set it
 * would double the start-up time, which is downtime for a sidecar: warn and go on instead.
 */
function warnFetchLimit(): void {
  if (process.env.BUN_CONFIG_MAX_HTTP_REQUESTS) return
  console.error(
    `warning: BUN_CONFIG_MAX_HTTP_REQUESTS is not set, so at most 256 upstream requests run at once (the rest wait). ` +
      `Set BUN_CONFIG_MAX_HTTP_REQUESTS=${MAX_HTTP_REQUESTS} in the environment; the systemd unit and the container image do.`,
  )
}
