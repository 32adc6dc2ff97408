/**
 * The per-request log line: JSON with the request log's fields (appended to a file here),
 * or a readable `pretty` line; `level` filters by outcome; every line is redacted.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import type { RequestRecord } from '../../src/proxy/record'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette, type Interaction } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'

let chatJson: Interaction
let upstream: ReplayUpstream
const provider = () => `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${upstream.url}/v1"\napi_key = "${CANARY.openaiKey}"`

beforeAll(async () => {
  chatJson = (await loadCassette('openai', 'test_max_completion_tokens[gpt-4o-mini]')).interactions[0]!
  upstream = startReplayUpstream([chatJson])
})
afterAll(() => upstream.stop())

async function traffic(gateway: TestGateway): Promise<void> {
  const client = new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/openai`, maxRetries: 0 })
  await client.chat.completions.create(chatJson.requestBody as OpenAI.ChatCompletionCreateParamsNonStreaming)
  // Refused: the wrong key is a key-shaped secret the client sent; it must not be logged.
  const wrong = await fetch(`${gateway.url}/openai/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer sk-CANARYwrongKeyInTheHeader0000001' }, body: '{}' })
  expect(wrong.status).toBe(401)
  // A path with a secret in it (a misconfigured base URL).
  await fetch(`${gateway.url}/${CANARY.groqKey}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${CANARY.gatewayKey}` }, body: '{}' })
}

describe('json lines to a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-log-'))
  const file = join(dir, 'requests.log')
  let g2: TestGateway
  const records: RequestRecord[] = []
  beforeAll(async () => {
    g2 = await startGateway(basicConfig(provider(), `[pricing]\nunknown_model = "allow"\n[logging]\nfile = "${file}"`), { sinks: [{ record: (r) => void records.push(r) }] })
  })
  afterAll(async () => {
    await g2.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  test('one line per request with the request log fields', async () => {
    await traffic(g2)
    await g2.gw.telemetry.flush()
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(lines).toHaveLength(3)
    const [ok, refused, unknown] = lines
    const rec = records.find((r) => r.id === ok.id)!
    expect(ok).toMatchObject({
      level: 'info',
      msg: 'request',
      key_id: 'test-key',
      project: 'default',
      user: 'alice',
      provider: 'openai',
      route: 'openai',
      api: 'openai',
      model: rec.usage!.model,
      method: 'POST',
      path: '/openai/chat/completions',
      stream: false,
      status: 200,
      input_tokens: rec.usage!.tokens.input_tokens,
      output_tokens: rec.usage!.tokens.output_tokens,
      cost_nanos: rec.costNanos,
    })
    expect(new Date(ok.time).getTime()).toBe(rec.ts)
    expect(ok.duration_ms).toBe(Math.round(rec.durationMs))
    expect(ok.usage).toEqual(rec.usage!.raw)
    expect(ok.attempts).toHaveLength(1)
    expect(refused).toMatchObject({ level: 'warn', status: 401, error: 'invalid_api_key' })
    expect(unknown).toMatchObject({ level: 'warn', status: 404, error: 'unknown_route', path: '/[REDACTED]/chat/completions' })
    const text = readFileSync(file, 'utf8')
    for (const s of [CANARY.gatewayKey, CANARY.groqKey, CANARY.openaiKey, 'sk-CANARYwrongKeyInTheHeader0000001']) expect(text).not.toContain(s)
  })
})

describe('pretty lines, warn level', () => {
  let gateway: TestGateway
  const out: string[] = []
  beforeAll(async () => {
    gateway = await startGateway(basicConfig(provider(), `[pricing]\nunknown_model = "allow"\n[logging]\nformat = "pretty"\nlevel = "warn"`), {
      logOutput: { write: async (t) => void out.push(t) },
    })
  })
  afterAll(() => gateway.stop())

  test('only failures, one readable line each', async () => {
    await traffic(gateway)
    await gateway.gw.telemetry.flush()
    const lines = out.join('').trim().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z WARN  401 POST \/openai\/chat\/completions \d+ms .*error=invalid_api_key id=[0-9a-f-]{36}$/)
    expect(lines[1]).toContain('404 POST /[REDACTED]/chat/completions')
    expect(lines[1]).toContain('project=default key=test-key')
  })
})
