/** `tollgate init`: writes the bundled config.toml, so a downloaded binary has a config to start from. */
import { defineCommand } from 'citty'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
// The repository's own config.toml, embedded in the binary as text.
import bundled from '../../config.toml' with { type: 'text' }
import { configArg, configPath } from './shared'

export const initCommand = defineCommand({
  meta: { name: 'init', description: 'Write the bundled config.toml (every provider off until its key is set)' },
  args: { ...configArg, force: { type: 'boolean', description: 'Overwrite an existing file' } },
  async run({ args }) {
    const path = configPath(args.config)
    if (existsSync(path) && !args.force) {
      console.error(`${path} already exists; pass --force to overwrite it.`)
      process.exit(1)
    }
    await writeFile(path, bundled as unknown as string, { mode: 0o600 })
    console.log(`wrote ${path}. Set provider keys (e.g. OPENAI_API_KEY), then: tollgate serve${args.config ? ` --config ${path}` : ''}`)
  },
})
