/** `api = "bedrock"` in config.toml: region and one kind of credential, empty ones disable it. */
import { describe, expect, test } from 'bun:test'
import { ConfigError, parseConfig } from '../../../src/config/load'

const provider = (lines: string) => `[[providers]]\nid = "bedrock"\napi = "bedrock"\n${lines}`

async function check(toml: string, env: Record<string, string> = {}) {
  try {
    const loaded = await parseConfig(toml, 'c.toml', env)
    return { problems: [] as string[], warnings: loaded.warnings, provider: loaded.config.providers[0] }
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e
    return { problems: e.problems.map((p) => `${p.path}: ${p.message}`), warnings: [], provider: undefined }
  }
}

describe('bedrock provider config', () => {
  test('SigV4 with a session token, and model aliases, load as written', async () => {
    const r = await check(
      provider(`region = "eu-central-1"\naccess_key_id = "\${AK}"\nsecret_access_key = "\${SK}"\nsession_token = "t"\nmodel_aliases = { "claude-sonnet-4-5" = "us.anthropic.claude-sonnet-4-5-20250929-v1:0" }`),
      { AK: 'AKIA1', SK: 'secret' },
    )
    expect(r.problems).toEqual([])
    expect(r.provider).toMatchObject({ region: 'eu-central-1', access_key_id: 'AKIA1', secret_access_key: 'secret', session_token: 't' })
    expect(r.provider?.model_aliases).toEqual({ 'claude-sonnet-4-5': 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' })
    expect(r.provider?.enabled).toBeUndefined()
  })

  test('a Bedrock API key alone is enough', async () => {
    const r = await check(provider(`region = "us-east-1"\napi_key = "ABSK-x"`))
    expect(r.problems).toEqual([])
  })

  test('region is required', async () => {
    expect((await check(provider('api_key = "k"'))).problems).toEqual(['providers[0].region: bedrock needs a region, e.g. "us-east-1"'])
  })

  test('no credential, half a key pair, or both kinds are errors', async () => {
    expect((await check(provider('region = "us-east-1"'))).problems).toEqual([
      'providers[0]: bedrock needs api_key (a Bedrock API key) or access_key_id + secret_access_key',
    ])
    expect((await check(provider('region = "us-east-1"\naccess_key_id = "AKIA1"'))).problems).toEqual([
      'providers[0]: SigV4 needs both access_key_id and secret_access_key',
    ])
    expect((await check(provider('region = "us-east-1"\napi_key = "k"\naccess_key_id = "a"\nsecret_access_key = "s"'))).problems).toEqual([
      'providers[0]: set either api_key or access_key_id + secret_access_key, not both',
    ])
  })

  test('empty credentials (an unset variable) disable the provider with a warning', async () => {
    const r = await check(provider('region = "us-east-1"\naccess_key_id = "${AK:-}"\nsecret_access_key = "${SK:-}"'))
    expect(r.problems).toEqual([])
    expect(r.provider?.enabled).toBe(false)
    expect(r.warnings).toContain('provider bedrock is disabled: providers[0].access_key_id is empty')
    const k = await check(provider('region = "us-east-1"\napi_key = "${BEDROCK_KEY:-}"'))
    expect(k.provider?.enabled).toBe(false)
    expect(k.warnings).toContain('provider bedrock is disabled: providers[0].api_key is empty')
  })

  test('a misspelt credential field is an unknown key', async () => {
    const r = await check(provider('region = "us-east-1"\napi_key = "k"\nsecret_key = "s"'))
    expect(r.problems).toContain('providers[0].secret_key: unknown key')
  })
})
