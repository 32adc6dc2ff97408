/** What every CLI command shares: the --config flag and loading it. */
import { ConfigError, loadConfigFile, type LoadedConfig } from '../config/load'
import { backupPolicy, openDatabase, type Database } from '../db/client'
import { MigrationBackupError } from '../db/pre-migrate-backup'

export const configArg = {
  config: {
    type: 'string',
    description: 'Path to config.toml (default: $TOLLGATE_CONFIG or ./config.toml)',
  },
} as const

export function configPath(flag: string | undefined): string {
  return flag ?? process.env.TOLLGATE_CONFIG ?? 'config.toml'
}

/** Loads the config or prints its problems and exits 2. */
export async function loadOrExit(flag: string | undefined): Promise<LoadedConfig> {
  try {
    const loaded = await loadConfigFile(configPath(flag))
    for (const w of loaded.warnings) console.error(`warning: ${w}`)
    return loaded
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message)
      if (e.problems.some((p) => p.message.includes('ENOENT'))) console.error(`No config file there: \`tollgate init${flag ? ` --config ${flag}` : ''}\` writes a starting one, or pass --config PATH (or set TOLLGATE_CONFIG).`)
      process.exit(2)
    }
    throw e
  }
}

export async function withDatabase<T>(loaded: LoadedConfig, f: (db: Database) => Promise<T>): Promise<T> {
  const c = loaded.config.database
  const db = await exitIfNotBackedUp(openDatabase(c.url, c.auth_token, { backup: backupPolicy(c) }))
  try {
    return await f(db)
  } finally {
    // PostgreSQL's pool must be ended before the command can exit.
    await db.close()
  }
}

/** A start that would migrate without its backup stops with the reason and what to do, not a stack trace. */
export async function exitIfNotBackedUp<T>(opening: Promise<T>): Promise<T> {
  try {
    return await opening
  } catch (e) {
    if (e instanceof MigrationBackupError) fail(e.message)
    throw e
  }
}

export function fail(message: string, code = 1): never {
  console.error(`error: ${message}`)
  process.exit(code)
}

/** USD from a flag, as integer nano-dollars. */
export function usdFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) fail(`--${name} must be a non-negative number of USD, got "${v}"`)
  return Math.round(n * 1e9)
}

export function table(rows: Record<string, unknown>[]): string {
  if (!rows.length) return '(none)'
  const cols = Object.keys(rows[0]!)
  const cell = (v: unknown) => (v === undefined || v === null ? '-' : String(v))
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)))
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd()
  return [line(cols), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n')
}
