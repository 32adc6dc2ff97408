/** The pure pieces: the Anthropic-on-Vertex body splice, query cleaning, config checks, usage readers. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, parseConfig } from '../../src/config/load'
import { vertexAnthropicBody } from '../../src/providers/google-vertex'
import { objectLayout } from '../../src/providers/google-vertex/json-members'
import { vertexBaseUrl, vertexProject, vertexRegion } from '../../src/providers/google-vertex/endpoint'
import { withoutKeyParam } from '../../src/providers/shared/google-request'
import { googleJsonUsage, googleStreamUsage } from '../../src/providers/shared/google-usage'
import { googleErrorShape } from '../../src/providers/shared/google-errors'
import { AuthenticationError, GatewayError, UpstreamError, UpstreamTimeoutError } from '../../src/errors'
import { startOAuthServer, type OAuthServer } from '../support/oauth-server'

const enc = (s: string) => new TextEncoder().encode(s)
const splice = (text: string, model: string | null = null) => {
  const out = vertexAnthropicBody(enc(text), JSON.parse(text), model)
  return typeof out === 'string' ? out : new TextDecoder().decode(out)
}

describe('vertexAnthropicBody', () => {
  test('drops model and adds anthropic_version, wherever model sits', () => {
    const cases = [
      '{"model":"m","max_tokens":5,"messages":[]}',
      '{"max_tokens":5,"model":"m","messages":[]}',
      '{"max_tokens":5,"messages":[],"model":"m"}',
      '{"model":"m"}',
      '{\n  "max_tokens": 5,\n  "model" : "m" ,\n  "messages": []\n}',
    ]
    for (const c of cases) {
      const out = splice(c)
      const { model: _, ...rest } = JSON.parse(c)
      expect(JSON.parse(out)).toEqual({ anthropic_version: 'vertex-2023-10-16', ...rest })
      expect(out.startsWith('{"anthropic_version":"vertex-2023-10-16"')).toBe(true)
    }
  })

  test('leaves every other byte as the client sent it', () => {
    const c = '{"temperature":1.0,"model":"m","system":"caf\\u00e9 \\"quoted\\" {not json}","messages":[{"role":"user","content":"model: \\"x\\""}],"metadata":{"model":"inner"},"big":12345678901234567890}'
    const out = splice(c)
    expect(out).toBe(`{"anthropic_version":"vertex-2023-10-16","temperature":1.0,"system":"caf\\u00e9 \\"quoted\\" {not json}","messages":[{"role":"user","content":"model: \\"x\\""}],"metadata":{"model":"inner"},"big":12345678901234567890}`)
  })

  test('raw multi-byte text around the model member survives', () => {
    expect(splice('{"system":"Zoë ✓ 日本","model":"m","x":"ü"}')).toBe('{"anthropic_version":"vertex-2023-10-16","system":"Zoë ✓ 日本","x":"ü"}')
  })

  test("keeps the client's anthropic_version; untouched bytes when nothing changes", () => {
    const c = '{"anthropic_version":"vertex-2023-10-16","max_tokens":5}'
    const body = enc(c)
    expect(vertexAnthropicBody(body, JSON.parse(c), null)).toBe(body)
    expect(splice('{"anthropic_version":"custom","model":"m","x":1}')).toBe('{"anthropic_version":"custom","x":1}')
  })

  test('count_tokens keeps model, or rewrites it to the aliased one', () => {
    expect(splice('{"model":"m","messages":[]}', 'm')).toBe('{"anthropic_version":"vertex-2023-10-16","model":"m","messages":[]}')
    expect(splice('{"messages":[],"model": "claude-x"}', 'claude-x@2025')).toBe('{"anthropic_version":"vertex-2023-10-16","messages":[],"model": "claude-x@2025"}')
  })

  test('duplicate model keys fall back to a re-serialised, still-correct body', () => {
    const out = JSON.parse(splice('{"model":"a","x":1,"model":"b"}'))
    expect(out).toEqual({ anthropic_version: 'vertex-2023-10-16', x: 1 })
  })

  test('objectLayout reads keys past strings with braces, escapes and multi-byte text', () => {
    const text = ' { "a" : "}{\\"\\\\" , "b":[{"c":"]"}], "é✓":"ü", "d":null }'
    const bytes = enc(text)
    const dec = (from: number, to: number) => new TextDecoder().decode(bytes.subarray(from, to))
    expect(objectLayout(bytes)!.members.map((m) => [m.key, dec(m.valueStart, m.end)])).toEqual([
      ['a', '"}{\\"\\\\"'],
      ['b', '[{"c":"]"}]'],
      ['é✓', '"ü"'],
      ['d', 'null'],
    ])
    expect(objectLayout(enc('[1]'))).toBeUndefined()
  })
})

describe('request helpers', () => {
  test('withoutKeyParam drops key= only', () => {
    expect(withoutKeyParam('')).toBe('')
    expect(withoutKeyParam('?alt=sse')).toBe('?alt=sse')
    expect(withoutKeyParam('?key=secret')).toBe('')
    expect(withoutKeyParam('?alt=sse&key=secret')).toBe('?alt=sse')
    expect(withoutKeyParam('?key=secret&alt=sse&monkey=1')).toBe('?alt=sse&monkey=1')
  })

  test("Google's endpoint per region, unless base_url is set", () => {
    const p = { id: 'v', api: 'google-vertex' as const }
    expect(vertexBaseUrl(p)).toBe('https://aiplatform.googleapis.com')
    expect(vertexBaseUrl({ ...p, region: 'europe-west4' })).toBe('https://europe-west4-aiplatform.googleapis.com')
    expect(vertexBaseUrl({ ...p, region: 'europe-west4', base_url: 'http://127.0.0.1:1' })).toBe('http://127.0.0.1:1')
  })

  test("Google's error shape maps each kind to its RPC status", async () => {
    const cases: [GatewayError, string][] = [
      [new AuthenticationError(), 'UNAUTHENTICATED'],
      [new UpstreamError('x'), 'UNAVAILABLE'],
      [new UpstreamTimeoutError('x'), 'DEADLINE_EXCEEDED'],
      [new GatewayError('upstream', 500, 'internal_error', 'x'), 'INTERNAL'],
      [new GatewayError('rate_limit', 429, 'limit', 'x'), 'RESOURCE_EXHAUSTED'],
      [new GatewayError('permission', 403, 'no', 'x'), 'PERMISSION_DENIED'],
    ]
    for (const [e, status] of cases) {
      const res = googleErrorShape.render(e)
      expect(res.status).toBe(e.status)
      expect(await res.json()).toEqual({ error: { code: e.status, message: e.message, status } })
    }
  })
})

describe('usage readers', () => {
  test('a stream: the last usageMetadata, with the model from any chunk', () => {
    const r = googleStreamUsage()
    r.event(undefined, JSON.stringify({ modelVersion: 'gemini-2.5-flash', usageMetadata: { promptTokenCount: 99, totalTokenCount: 99 } }))
    r.event(undefined, JSON.stringify({ candidates: [] }))
    r.event(undefined, JSON.stringify({ usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 3, totalTokenCount: 13 } }))
    const u = r.result()!
    expect(u.tokens.input_tokens).toBe(10)
    expect(u.tokens.output_tokens).toBe(3)
    expect(u.model).toBe('gemini-2.5-flash')
    expect(googleStreamUsage().result()).toBeUndefined()
  })

  test('a JSON array (streamGenerateContent without alt=sse): its last usage', () => {
    const u = googleJsonUsage([
      { modelVersion: 'gemini-2.0-flash', usageMetadata: { promptTokenCount: 5 } },
      { usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 7 } },
    ])!
    expect(u.tokens.output_tokens).toBe(7)
    expect(u.model).toBe('gemini-2.0-flash')
    expect(googleJsonUsage({ totalTokens: 12 })).toBeUndefined()
  })
})

describe('google-vertex config', () => {
  let oauth: OAuthServer
  let dir: string
  beforeAll(async () => {
    oauth = await startOAuthServer({ project: 'sa-project' })
    dir = mkdtempSync(join(tmpdir(), 'tollgate-vertex-'))
  })
  afterAll(() => {
    oauth.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  const load = (provider: string, env: Record<string, string> = {}) => parseConfig(`[[providers]]\nid = "v"\napi = "google-vertex"\n${provider}`, 'test.toml', env)
  const problems = async (provider: string, env: Record<string, string> = {}) => {
    const e = await load(provider, env).catch((x) => x)
    expect(e).toBeInstanceOf(ConfigError)
    return (e as ConfigError).problems
  }

  test('credentials from ${file:…}; project from the service account; region global', async () => {
    const file = join(dir, 'sa.json')
    writeFileSync(file, JSON.stringify(oauth.account, null, 2) + '\n')
    const { config, warnings } = await load(`credentials = "\${file:${file}}"`)
    expect(warnings).toEqual([])
    const p = config.providers[0]!
    expect(JSON.parse(p.credentials!)).toEqual(oauth.account)
    expect(vertexProject(p)).toBe('sa-project')
    expect(vertexRegion(p)).toBe('global')
  })

  test('empty credentials disable the provider with a warning', async () => {
    const { config, warnings } = await load('credentials = "${GOOGLE_SA:-}"')
    expect(config.providers[0]!.enabled).toBe(false)
    expect(warnings).toEqual(['provider v is disabled: providers[0].credentials is empty'])
  })

  test('credentials that are not a service account are an error naming the path, never the secret', async () => {
    const ps = await problems('credentials = "${SA}"', { SA: 'not json -----BEGIN PRIVATE KEY-----' })
    expect(ps).toEqual([{ path: 'providers[0].credentials', message: 'not valid JSON (expected a service-account key file)' }])
    const user = await problems('credentials = "${SA}"', { SA: JSON.stringify({ type: 'authorized_user', client_id: 'x' }) })
    expect(user[0]!.path).toBe('providers[0].credentials')
  })

  test('a project is required when the service account has none; regions are checked', async () => {
    const { project_id: _, ...noProject } = oauth.account
    expect(await problems('credentials = "${SA}"', { SA: JSON.stringify(noProject) })).toEqual([
      { path: 'providers[0].project', message: 'required: the service account has no project_id' },
    ])
    expect((await load('credentials = "${SA}"\nproject = "p"', { SA: JSON.stringify(noProject) })).config.providers[0]!.project).toBe('p')
    const bad = await problems('credentials = "${SA}"\nregion = "us-east5/../x"', { SA: oauth.accountJson })
    expect(bad.map((p) => p.path)).toEqual(['providers[0].region'])
  })
})
