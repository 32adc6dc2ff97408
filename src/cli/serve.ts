/** `tollgate serve`: run the gateway. */
import { defineCommand } from 'citty'
import { createGateway } from '../gateway'
import { handleReload, handleSignals, serve } from '../server'
import { raiseOpenFilesLimit } from '../proxy/rlimit'
import { configArg, configPath, exitIfNotBackedUp, loadOrExit } from './shared'
import { startupMark } from '../startup-timing'
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
    startupMark('modules')
    warnFetchLimit()
    raiseOpenFilesLimit()
    const loaded = await loadOrExit(args.config)
    startupMark('config')
    const gw = await exitIfNotBackedUp(createGateway(loaded))
    startupMark('gateway')
    const server = await serve(gw, args.listen ?? loaded.config.server.listen, configPath(args.config)).catch(async (e) => {
      // A certificate or key file that cannot be used: said like any config problem.
      if (!(e instanceof ConfigError)) throw e
      console.error(e.message)
      await gw.close()
      process.exit(2)
    })
    startupMark('listen')
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
