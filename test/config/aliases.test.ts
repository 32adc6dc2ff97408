/** `[[aliases]]` (front-door model names) and the front door's provider options are validated at load. */
import { expect, test } from 'bun:test'
import { ConfigError, parseConfig } from '../../src/config/load'

const problems = async (toml: string) => {
  try {
    await parseConfig(toml, 'c.toml', {})
    return []
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e
    return e.problems.map((p) => `${p.path}: ${p.message}`)
  }
}

const PROVIDERS = `[[providers]]\nid = "anth"\napi = "anthropic"\napi_key = "k"\n[[providers]]\nid = "b"\napi = "bedrock"\nregion = "us-east-1"\napi_key = "k"\nopenai_endpoint = "mantle"\nmodels = ["openai.gpt-oss-120b"]\n`

test('aliases may name a provider id, a group or an api alias', async () => {
  const toml = `${PROVIDERS}[[routes]]\nname = "g"\ntargets = [{ provider = "anth" }]\n[[aliases]]\nname = "sonnet"\nroute = "anth"\nmodel = "claude-sonnet-4-5"\n[[aliases]]\nname = "grp"\nroute = "g"\nmodel = "m"\n[[aliases]]\nname = "viaalias"\nroute = "anthropic"\nmodel = "m"\n`
  expect(await problems(toml)).toEqual([])
  const { config } = await parseConfig(toml, 'c.toml', {})
  expect(config.aliases.map((a) => a.name)).toEqual(['sonnet', 'grp', 'viaalias'])
})

test('an unknown route and a duplicate name are errors with paths', async () => {
  const p = await problems(`${PROVIDERS}[[aliases]]\nname = "x"\nroute = "nope"\nmodel = "m"\n[[aliases]]\nname = "x"\nroute = "anth"\nmodel = "m"\n`)
  expect(p).toContain('aliases[0].route: unknown route "nope" (a provider id, a [[routes]] name or an api alias)')
  expect(p).toContain('aliases[1].name: duplicate alias "x" (also aliases[0])')
})

test('an alias name has no colon (route:model is the other way to name a model)', async () => {
  const p = await problems(`${PROVIDERS}[[aliases]]\nname = "a:b"\nroute = "anth"\nmodel = "m"\n`)
  expect(p.some((x) => x.startsWith('aliases[0].name:'))).toBe(true)
})

test('openai_endpoint takes runtime or mantle only', async () => {
  const p = await problems(PROVIDERS.replace('"mantle"', '"edge"'))
  expect(p.some((x) => x.startsWith('providers[1].openai_endpoint:'))).toBe(true)
})
