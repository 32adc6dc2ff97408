#!/usr/bin/env bun
/** The `tollgate` command: init | serve | check-config | keys | logs | spend | credits | admin | version. */
import { defineCommand, runMain } from 'citty'
import { ConfigError, loadConfigFile } from './config/load'
import { configArg, configPath } from './cli/shared'
import { serveCommand } from './cli/serve'
import { keysCommand } from './cli/keys'
import { logsCommand } from './cli/logs'
import { spendCommand } from './cli/spend'
import { creditsCommand } from './cli/credits'
import { adminCommand, adminTokenCommand } from './cli/admin'
import { initCommand } from './cli/init'
import { backupCommand } from './cli/backup'
import { buildInfo, NAME, VERSION } from './version'

const checkConfig = defineCommand({
  meta: { name: 'check-config', description: 'Validate config.toml; prints every problem with its TOML path' },
  args: { ...configArg },
  async run({ args }) {
    const path = configPath(args.config)
    try {
      const loaded = await loadConfigFile(path)
      for (const w of loaded.warnings) console.log(`warning: ${w}`)
      console.log(`${path}: ok`)
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e
      console.error(e.message)
      process.exit(2)
    }
  },
})

const version = defineCommand({
  meta: { name: 'version', description: 'Print the version, commit, build date, Bun version and target' },
  run() {
    const b = buildInfo()
    console.log(`${NAME} ${b.version}\ncommit ${b.commit}\nbuilt ${b.date}\nbun ${b.bun}\ntarget ${b.target}`)
  },
})

export const main = defineCommand({
  meta: { name: NAME, version: VERSION, description: 'Self-hosted AI gateway' },
  subCommands: { init: initCommand, serve: serveCommand, 'check-config': checkConfig, keys: keysCommand, logs: logsCommand, spend: spendCommand, credits: creditsCommand, admin: adminCommand, 'admin-token': adminTokenCommand, backup: backupCommand, version },
})

if (import.meta.main) await runMain(main)
