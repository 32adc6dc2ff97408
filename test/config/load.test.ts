/** config.toml: validation with TOML paths, interpolation, and disabling empty providers. */
import { describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfigFile, parseConfig, toTomlPath } from '../../src/config/load'

const problems = async (toml: string, env: Record<string, string> = {}) => {
  try {
    await parseConfig(toml, 'c.toml', env)
    return []
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e
    return e.problems.map((p) => `${p.path}: ${p.message}`)
  }
}

describe('validation', () => {
  test('a wrong enum names its path and the allowed values', async () => {
    const p = await problems(`[[providers]]\nid="a"\napi="openai"\napi_key="k"\n[[providers]]\nid="b"\napi="openai"\napi_key="k"\n[[providers]]\nid="c"\napi="mistral"\napi_key="k"`)
    expect(p).toContain('providers[2].api: expected one of openai | anthropic | groq | google-vertex | gemini | bedrock, got "mistral"')
  })

  test('unknown keys and wrong types are errors with paths', async () => {
    const p = await problems(`[server]\nlisten = 8787\nlistne = "x"\n[[projects]]\nid = "p"\nlimits = { daily = "ten" }`)
    expect(p.some((x) => x.startsWith('server.listen: expected string'))).toBe(true)
    expect(p).toContain('server.listne: unknown key')
    expect(p.some((x) => x.startsWith('projects[0].limits.daily: expected number'))).toBe(true)
  })

  test('cross-references: duplicate ids, unknown project, user, provider', async () => {
    const p = await problems(`
[[providers]]
id = "openai"
api = "openai"
api_key = "k"
[[providers]]
id = "openai"
api = "anthropic"
api_key = "k"
[[projects]]
id = "p"
providers = ["nope"]
[[keys]]
id = "k1"
project = "q"
user = "bob"
key = "x"
[[keys]]
id = "k2"
project = "p"
`)
    expect(p).toContain('providers[1].id: duplicate id "openai" (also providers[0])')
    expect(p).toContain('projects[0].providers[0]: unknown provider "nope"')
    expect(p).toContain('keys[0].project: unknown project "q"')
    expect(p).toContain('keys[0].user: unknown user "bob"')
    expect(p).toContain('keys[1]: a key needs key or key_sha256')
  })

  test('limits.timezone: UTC and IANA names load, an unknown zone is refused at load', async () => {
    expect(await problems(`[limits]\ntimezone="UTC"`)).toEqual([])
    expect(await problems(`[limits]\ntimezone="Europe/Berlin"`)).toEqual([])
    expect(await problems(`[limits]\ntimezone="Mars/Olympus_Mons"`)).toEqual(['limits.timezone: unknown time zone "Mars/Olympus_Mons" (an IANA name such as "UTC" or "Europe/Berlin")'])
  })

  test('TOML syntax errors are reported, not thrown raw', async () => {
    const p = await problems('[server\nlisten=')
    expect(p[0]).toStartWith(': TOML syntax')
  })

  test('JSON pointer to TOML path', () => {
    expect(toTomlPath('/providers/2/api')).toBe('providers[2].api')
    expect(toTomlPath('/server/listen')).toBe('server.listen')
  })
})

describe('interpolation', () => {
  test('${VAR}, ${VAR:-default} and ${file:PATH}', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-cfg-'))
    writeFileSync(join(dir, 'secret'), 'sk-test-from-file\n')
    const { config } = await parseConfig(
      `[server]\nlisten = "\${HOST:-127.0.0.1}:\${PORT}"\n[[providers]]\nid="o"\napi="openai"\napi_key="\${file:${join(dir, 'secret')}}"`,
      'c.toml',
      { PORT: '9999' },
    )
    expect(config.server.listen).toBe('127.0.0.1:9999')
    expect(config.providers[0]!.api_key).toBe('sk-test-from-file')
  })

  test('an unresolved ${VAR} is a start-up error naming the variable and path', async () => {
    const p = await problems(`[[projects]]\nid="p"\n[[keys]]\nid="k"\nproject="p"\nkey="\${ALICE_GATEWAY_KEY}"`)
    expect(p).toEqual(['keys[0].key: environment variable ALICE_GATEWAY_KEY is not set (use ${ALICE_GATEWAY_KEY:-} to allow empty)'])
  })

  test('a missing secret file is an error', async () => {
    const p = await problems(`[[providers]]\nid="o"\napi="openai"\napi_key="\${file:/nonexistent/x}"`)
    expect(p[0]).toContain('providers[0].api_key: cannot read secret file /nonexistent/x')
  })

  test('an empty credential disables its provider with a warning', async () => {
    const { config, warnings } = await parseConfig(`[[providers]]\nid="o"\napi="openai"\napi_key="\${OPENAI_API_KEY:-}"`, 'c.toml', {})
    expect(config.providers[0]!.enabled).toBe(false)
    expect(warnings).toEqual(['provider o is disabled: providers[0].api_key is empty'])
  })
})

test('the bundled config.toml starts cleanly with no keys in the environment', async () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/_API_KEY$|^TOLLGATE_/.test(k)))
  const origEnv = process.env
  process.env = env as typeof process.env
  try {
    const { config, warnings } = await loadConfigFile(join(import.meta.dir, '../../config.toml'))
    expect(config.providers.length).toBeGreaterThanOrEqual(3)
    expect(warnings.length).toBeGreaterThan(0)
  } finally {
    process.env = origEnv
  }
})
