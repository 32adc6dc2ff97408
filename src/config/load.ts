/** Reads config.toml: TOML → interpolation → defaults → TypeBox validation → cross-checks. */
import { readFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { Value, type ValueError } from '@sinclair/typebox/value'
import { reservedName } from './reserved'
import { parseListen } from './listen'
import { PROVIDER_APIS } from '../providers/registry'
import { Config } from './schema'
import { interpolate, type InterpolationProblem } from './interpolate'
import { isValidZone } from '../spend/windows'

export interface LoadedConfig {
  config: Config
  path: string
  /** Non-fatal notes, e.g. a provider disabled because its key is empty. */
  warnings: string[]
}

export class ConfigError extends Error {
  readonly code = 'config_invalid'
  constructor(
    readonly path: string,
    readonly problems: InterpolationProblem[],
  ) {
    super(`${path}: ${problems.length} problem(s)\n` + problems.map((p) => `  ${p.path || '(root)'}: ${p.message}`).join('\n'))
  }
}

export async function loadConfigFile(path: string, env = process.env): Promise<LoadedConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    throw new ConfigError(path, [{ path: '', message: `cannot read config file (${(e as NodeJS.ErrnoException).code})` }])
  }
  return parseConfig(text, path, env)
}

export async function parseConfig(text: string, path = 'config.toml', env: Record<string, string | undefined> = process.env): Promise<LoadedConfig> {
  let raw: unknown
  try {
    raw = Bun.TOML.parse(text)
  } catch (e) {
    throw new ConfigError(path, [{ path: '', message: `TOML syntax: ${(e as Error).message}` }])
  }
  const problems: InterpolationProblem[] = []
  const interpolated = await interpolate(raw, env, problems)
  const withDefaults = Value.Default(Config, Value.Clone(interpolated)) as unknown
  // Value.Check is several times faster than walking Value.Errors (a generator); errors only when it fails.
  if (!Value.Check(Config, withDefaults)) for (const e of Value.Errors(Config, withDefaults)) problems.push({ path: toTomlPath(e.path), message: describe(e) })
  if (problems.length) throw new ConfigError(path, dedupe(problems))
  const config = withDefaults as Config
  const warnings: string[] = []
  crossCheck(config, problems, warnings)
  if (problems.length) throw new ConfigError(path, problems)
  return { config, path, warnings }
}

/** `/providers/2/api` → `providers[2].api` */
export function toTomlPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '')
}

function describe(e: ValueError): string {
  const literals = (e.schema.anyOf as { const?: unknown }[] | undefined)?.map((s) => s.const)
  if (literals && literals.every((l) => l !== undefined)) {
    return `expected one of ${literals.join(' | ')}, got ${JSON.stringify(e.value)}`
  }
  if (e.message.startsWith('Unexpected property')) return 'unknown key'
  return `${e.message.charAt(0).toLowerCase()}${e.message.slice(1)}${e.value === undefined ? '' : `, got ${JSON.stringify(e.value)}`}`
}

function dedupe(ps: InterpolationProblem[]): InterpolationProblem[] {
  const seen = new Set<string>()
  return ps.filter((p) => {
    const k = `${p.path}\0${p.message}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

/** Checks that need the whole file: unique ids, references, key secrets. */
function crossCheck(c: Config, problems: InterpolationProblem[], warnings: string[]): void {
  if (Boolean(c.server.tls_cert) !== Boolean(c.server.tls_key)) problems.push({ path: c.server.tls_cert ? 'server.tls_key' : 'server.tls_cert', message: 'tls_cert and tls_key go together' })
  const unique = (list: { id: string }[], section: string) => {
    const seen = new Map<string, number>()
    list.forEach((x, i) => {
      if (seen.has(x.id)) problems.push({ path: `${section}[${i}].id`, message: `duplicate id "${x.id}" (also ${section}[${seen.get(x.id)}])` })
      else seen.set(x.id, i)
    })
    return seen
  }
  const providers = unique(c.providers, 'providers')
  const projects = unique(c.projects, 'projects')
  checkReserved(c, problems)
  checkTrustedProxies(c, problems)
  const users = unique(c.users, 'users')
  unique(c.keys, 'keys')

  const checkProviders = (list: string[] | undefined, path: string) =>
    list?.forEach((p, i) => {
      if (!providers.has(p)) problems.push({ path: `${path}[${i}]`, message: `unknown provider "${p}"` })
    })

  c.providers.forEach((p, i) => {
    if (p.enabled === false) warnings.push(`provider ${p.id} is disabled (enabled = false)`)
    else if (needsApiKey(p.api) && !p.api_key) {
      p.enabled = false
      warnings.push(`provider ${p.id} is disabled: providers[${i}].api_key is empty`)
    }
  })
  // Each format's own checks (Bedrock's credentials, Vertex's service account).
  c.providers.forEach((p, i) => PROVIDER_APIS[p.api]?.checkConfig?.(p, i, problems, warnings))
  checkRoutes(c, providers, problems)
  checkAliases(c, problems)
  checkSpend(c, providers, problems, warnings)
  checkTelemetry(c, problems, warnings)
  c.projects.forEach((p, i) => checkProviders(p.providers, `projects[${i}].providers`))
  c.users.forEach((u, i) =>
    u.projects?.forEach((p, j) => {
      if (!projects.has(p)) problems.push({ path: `users[${i}].projects[${j}]`, message: `unknown project "${p}"` })
    }),
  )
  c.keys.forEach((k, i) => {
    if (!projects.has(k.project)) problems.push({ path: `keys[${i}].project`, message: `unknown project "${k.project}"` })
    if (k.user !== undefined && !users.has(k.user)) problems.push({ path: `keys[${i}].user`, message: `unknown user "${k.user}"` })
    checkProviders(k.providers, `keys[${i}].providers`)
    if (k.key !== undefined && k.key_sha256 !== undefined) {
      problems.push({ path: `keys[${i}]`, message: 'set either key or key_sha256, not both' })
    } else if (!k.key && !k.key_sha256) {
      if (k.key === '') warnings.push(`key ${k.id} is disabled: keys[${i}].key is empty`)
      else problems.push({ path: `keys[${i}]`, message: 'a key needs key or key_sha256' })
    } else if (k.key && k.key.length > 256) {
      problems.push({ path: `keys[${i}].key`, message: 'a gateway key is at most 256 characters' })
    }
    if (k.expires && Number.isNaN(Date.parse(k.expires))) problems.push({ path: `keys[${i}].expires`, message: 'not a date-time' })
  })
}

/** Apis whose credential is an API key (the others bring their own credential fields). */
function needsApiKey(api: string): boolean {
  return api === 'openai' || api === 'anthropic' || api === 'groq' || api === 'gemini'
}

/** Provider ids, route names and project ids may not take a built-in route name (see reserved.ts). */
function checkReserved(c: Config, problems: InterpolationProblem[]): void {
  c.providers.forEach((p, i) => {
    const why = reservedName(p.id, p.api)
    if (why) problems.push({ path: `providers[${i}].id`, message: why })
  })
  const apiOf = new Map(c.providers.map((p) => [p.id, p.api]))
  c.routes.forEach((r, i) => {
    // The primary target (highest priority, first on a tie) sets the route's format, as in RouteTable.
    const primary = r.targets.reduce<(typeof r.targets)[number] | undefined>((a, b) => (!a || (b.priority ?? 0) > (a.priority ?? 0) ? b : a), undefined)
    const why = reservedName(r.name, primary && apiOf.get(primary.provider))
    if (why) problems.push({ path: `routes[${i}].name`, message: why })
  })
  c.projects.forEach((p, i) => {
    const why = reservedName(p.id)
    if (why) problems.push({ path: `projects[${i}].id`, message: why })
  })
}

/** `[server] trusted_proxies`: addresses or CIDR ranges (IPv4 or IPv6). */
function checkTrustedProxies(c: Config, problems: InterpolationProblem[]): void {
  c.server.trusted_proxies.forEach((entry, i) => {
    const [addr, bits, extra] = entry.split('/')
    const family = isIP(addr ?? '')
    const path = `server.trusted_proxies[${i}]`
    if (!family || extra !== undefined) problems.push({ path, message: `"${entry}" is not an IP address or CIDR range` })
    else if (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > (family === 6 ? 128 : 32))) problems.push({ path, message: `"${entry}" has a bad prefix length` })
  })
}

/** Front-door aliases: unique names, each naming a route this config has (a provider id, a group or an api alias). */
function checkAliases(c: Config, problems: InterpolationProblem[]): void {
  const routes = new Set([...c.providers.map((p) => p.id), ...c.routes.map((r) => r.name)])
  for (const p of c.providers) for (const a of PROVIDER_APIS[p.api]?.aliases ?? []) routes.add(a)
  const names = new Map<string, number>()
  c.aliases.forEach((a, i) => {
    if (names.has(a.name)) problems.push({ path: `aliases[${i}].name`, message: `duplicate alias "${a.name}" (also aliases[${names.get(a.name)}])` })
    else names.set(a.name, i)
    if (!routes.has(a.route)) problems.push({ path: `aliases[${i}].route`, message: `unknown route "${a.route}" (a provider id, a [[routes]] name or an api alias)` })
  })
}

/** Routing groups: unique names, known providers, each provider once per group. */
function checkRoutes(c: Config, providers: Map<string, number>, problems: InterpolationProblem[]): void {
  const names = new Map<string, number>()
  c.routes.forEach((r, i) => {
    if (names.has(r.name)) problems.push({ path: `routes[${i}].name`, message: `duplicate route name "${r.name}" (also routes[${names.get(r.name)}])` })
    else names.set(r.name, i)
    const seen = new Set<string>()
    r.targets.forEach((t, j) => {
      if (!providers.has(t.provider)) problems.push({ path: `routes[${i}].targets[${j}].provider`, message: `unknown provider "${t.provider}"` })
      else if (seen.has(t.provider)) problems.push({ path: `routes[${i}].targets[${j}].provider`, message: `provider "${t.provider}" is already a target of this route` })
      seen.add(t.provider)
    })
  })
}

/** Spend: a zone Intl knows, priced models on known providers, markup only where it applies. */
function checkSpend(c: Config, providers: Map<string, number>, problems: InterpolationProblem[], warnings: string[]): void {
  if (!isValidZone(c.limits.timezone)) problems.push({ path: 'limits.timezone', message: `unknown time zone "${c.limits.timezone}" (an IANA name such as "UTC" or "Europe/Berlin")` })
  c.pricing.models.forEach((m, i) => {
    if (m.provider !== undefined && !providers.has(m.provider)) problems.push({ path: `pricing.models[${i}].provider`, message: `unknown provider "${m.provider}"` })
  })
  c.providers.forEach((p, i) => {
    if (p.markup && !p.managed) warnings.push(`providers[${i}].markup applies only to managed providers (managed = true); ${p.id} is not managed`)
  })
}

/** Telemetry: a separate metrics listener on its own port; project trace settings that need an endpoint. */
function checkTelemetry(c: Config, problems: InterpolationProblem[], warnings: string[]): void {
  const port = (listen: string) => parseListen(listen).port
  if (c.metrics.listen && port(c.metrics.listen) !== 0 && port(c.metrics.listen) === port(c.server.listen)) {
    problems.push({ path: 'metrics.listen', message: `must differ from server.listen ("${c.server.listen}"); omit it to serve /metrics on the main listener` })
  }
  if (c.metrics.token === '') warnings.push('metrics.token is empty: /metrics is served without a token')
  c.projects.forEach((p, i) => {
    const o = p.otel
    if (!o || o.endpoint) return
    if (o.headers || o.protocol || o.also_global !== undefined) warnings.push(`projects[${i}].otel has no endpoint: its headers/protocol/also_global do nothing`)
    if (o.capture_content && !c.otel.endpoint) warnings.push(`projects[${i}].otel.capture_content is on, but no trace backend is configured ([otel] endpoint)`)
  })
}
