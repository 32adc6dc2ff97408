/** The one redactor: configured secrets, auth headers, and the known key shapes. */
import { describe, expect, test } from 'bun:test'
import { parseConfig } from '../../src/config/load'
import { configSecrets, REDACTED, Redactor } from '../../src/telemetry/redact'

describe('Redactor', () => {
  const r = new Redactor(['my-configured-secret-value', 'short'])

  test('configured secrets, wherever they appear', () => {
    expect(r.text('x my-configured-secret-value y')).toBe(`x ${REDACTED} y`)
    expect(r.text('{"k":"my-configured-secret-value"}')).toBe(`{"k":"${REDACTED}"}`)
    // Too short to be treated as a secret: ordinary words stay.
    expect(r.text('a short note')).toBe('a short note')
  })

  test.each([
    ['OpenAI', 'key sk-proj-abcdefghijklmnopqrstuvwxyz012345 end', `key ${REDACTED} end`],
    ['Anthropic', 'sk-ant-api03-abcdefghijklmnopqrstuv', REDACTED],
    ['Google', 'AIzaSyA1234567890abcdefghijklmnopqrstu', REDACTED],
    ['Groq', 'gsk_abcdefghijklmnopqrstuvwx', REDACTED],
    ['AWS access key id', 'id=AKIAIOSFODNN7EXAMPLE;', `id=${REDACTED};`],
    ['AWS temporary key id', 'ASIAIOSFODNN7EXAMPLE', REDACTED],
    ['Bearer token', 'Authorization: Bearer abc.def-ghi_jkl', `Authorization: Bearer ${REDACTED}`],
    ['bearer, lower case', 'bearer 0123456789abcdef', `bearer ${REDACTED}`],
    ['Tollgate key (id kept)', 'tg_abc123def456_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345', `tg_abc123def456_${REDACTED}`],
    ['admin token (id kept)', 'my token tga_abc123def456_Q2xhc3NpY1NlY3JldEFkbWluVG9rZW4tMDEyMzQ1Njc4 ok', `my token tga_abc123def456_${REDACTED} ok`],
    ['setup link', 'https://gw.example/admin/setup?token=tgs_Q2xhc3NpY1NlY3JldFNldHVwTGluay0wMTIzNDU2Nzg', `https://gw.example/admin/setup?token=${REDACTED}`],
    ['invitation', '/admin/invite?token=tgi_-Q2xhc3NpY1NlY3JldEludml0YXRpb24tMDEyMzQ1Njc', `/admin/invite?token=${REDACTED}`],
    ['session id', 'cookie tollgate_session=tgss_Q2xhc3NpY1NlY3JldFNlc3Npb24tMDEyMzQ1Njc4OTA', `cookie tollgate_session=${REDACTED}`],
  ])('%s', (_name, input, output) => {
    expect(r.text(input)).toBe(output)
  })

  test('leaves ordinary text alone (and returns the same string)', () => {
    for (const s of ['gpt-4o-mini-2024-07-18', 'claude-sonnet-4-5', 'task-runner', 'risk-assessment-model', 'The bearer certificates expire', 'Bearer of news', '/openai/chat/completions']) {
      expect(r.text(s)).toBe(s)
    }
  })

  test('headers: credentials blanked whatever they hold', () => {
    const h = new Headers({ authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': 'anything', 'x-goog-api-key': 'k', 'content-type': 'application/json', 'x-note': 'sk-abcdefghijklmnopqrstuvwxyz' })
    expect(r.headers(h)).toEqual({ authorization: REDACTED, 'x-api-key': REDACTED, 'x-goog-api-key': REDACTED, 'content-type': 'application/json', 'x-note': REDACTED })
  })

  test('values: deep', () => {
    expect(r.value({ a: ['my-configured-secret-value', 1], b: { c: 'Bearer zzzz1zzzzz' } })).toEqual({ a: [REDACTED, 1], b: { c: `Bearer ${REDACTED}` } })
  })
})

test('configSecrets collects every secret of a config, and nothing else', async () => {
  const sa = JSON.stringify({ type: 'service_account', project_id: 'p', private_key: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n-----END PRIVATE KEY-----\n', client_email: 'x@p.iam' })
  const { config } = await parseConfig(
    `
[[providers]]
id = "openai"
api = "openai"
api_key = "openai-key-value-1"
headers = { OpenAI-Organization = "org-header-value-1" }

[[providers]]
id = "vertex"
api = "google-vertex"
credentials = '${sa}'

[[providers]]
id = "bedrock"
api = "bedrock"
region = "us-east-1"
access_key_id = "AKIAIOSFODNN7EXAMPLE"
secret_access_key = "bedrock-secret-value-1"

[database]
url = "libsql://db.example"
auth_token = "db-token-value-1"

[otel]
endpoint = "https://logfire-api.pydantic.dev"
headers = { Authorization = "otel-token-value-1" }

[metrics]
token = "metrics-token-value-1"

[[projects]]
id = "team-a"
otel = { endpoint = "https://collector.example", headers = { "x-honeycomb-team" = "project-otel-value-1" } }

[[keys]]
id = "k1"
project = "team-a"
key = "gateway-key-value-1"

[[keys]]
id = "k2"
project = "team-a"
key_sha256 = "${'a'.repeat(64)}"
`,
    'secrets.toml',
    {},
  )
  const found = configSecrets(config)
  for (const s of ['openai-key-value-1', 'org-header-value-1', 'bedrock-secret-value-1', 'db-token-value-1', 'otel-token-value-1', 'metrics-token-value-1', 'project-otel-value-1', 'gateway-key-value-1']) {
    expect(found).toContain(s)
  }
  expect(found).toContain(sa)
  expect(found.some((s) => s.includes('MIIEvQIBADANBgkqhkiG9w0B') && s.startsWith('-----BEGIN'))).toBe(true)
  // Ids, digests, URLs and names are not secrets.
  for (const s of ['openai', 'k1', 'a'.repeat(64), 'https://logfire-api.pydantic.dev', 'team-a', 'us-east-1']) expect(found).not.toContain(s)
})
