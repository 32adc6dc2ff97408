/**
 * A real Prometheus (Debian's `prometheus` package) scrapes the gateway's separate metrics
 * listener with its bearer token; after traffic, Prometheus' own query API must return the
 * request, token and cost series with the values the gateway recorded. Skipped, loudly,
 * when no prometheus binary is installed (CI installs it: apt-get install prometheus).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import OpenAI from 'openai'
import type { RequestRecord } from '../../src/proxy/record'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette, type Interaction } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'
import { freePort } from '../support/ports'

const PROMETHEUS = Bun.which('prometheus')
if (!PROMETHEUS) console.warn('SKIPPED prometheus.test.ts: no `prometheus` binary on PATH (install it with `apt-get install -y prometheus`).')
// In CI a missing binary is a failure, not a skip.
test.skipIf(!!PROMETHEUS || !process.env.CI)('the prometheus binary is installed in CI', () => {
  throw new Error('CI must install Debian\'s prometheus package (apt-get install -y prometheus) for this test')
})

const TOKEN = 'prometheus-scrape-token-0000000001'


describe.skipIf(!PROMETHEUS)('Prometheus scrapes /metrics', () => {
  let upstream: ReplayUpstream
  let gateway: TestGateway
  let prom: Subprocess
  let promUrl: string
  let dir: string
  const records: RequestRecord[] = []
  let chatJson: Interaction
  let chatStream: Interaction

  beforeAll(async () => {
    chatJson = (await loadCassette('openai', 'test_max_completion_tokens[gpt-4o-mini]')).interactions[0]!
    chatStream = (await loadCassette('openai', 'test_openai_moderation_stream')).interactions.find((x) => x.contentType.includes('event-stream'))!
    upstream = startReplayUpstream([chatJson, chatStream])
    const provider = `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${upstream.url}/v1"\napi_key = "${CANARY.openaiKey}"`
    gateway = await startGateway(basicConfig(provider, `[pricing]\nunknown_model = "allow"\n[logging]\nlevel = "off"\n[metrics]\nlisten = "127.0.0.1:0"\ntoken = "${TOKEN}"`), {
      sinks: [{ record: (r) => void records.push(r) }],
    })
    const target = new URL(gateway.gw.telemetry.listenMetrics()!.url).host

    dir = mkdtempSync(join(tmpdir(), 'tollgate-prom-'))
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        'scrape_configs:',
        '  - job_name: tollgate',
        '    authorization:',
        `      credentials: ${TOKEN}`,
        '    static_configs:',
        `      - targets: ['${target}']`,
      ].join('\n'),
    )
    const port = freePort()
    promUrl = `http://127.0.0.1:${port}`
    prom = Bun.spawn(
      [PROMETHEUS!, `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdout: 'ignore', stderr: 'pipe' },
    )
    await until(async () => (await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok === true, 'Prometheus ready')
  })

  afterAll(async () => {
    prom?.kill()
    await prom?.exited
    await gateway?.stop()
    upstream?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  /** Polls until `check` holds (Prometheus scrapes on its own schedule); fails with what it last saw. */
  async function until(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await Bun.sleep(200)
    }
  }

  async function query(q: string): Promise<number | undefined> {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)
    const body = (await res.json()) as { status: string; data: { result: { value: [number, string] }[] } }
    expect(body.status).toBe('success')
    const v = body.data.result[0]?.value[1]
    return v === undefined ? undefined : Number(v)
  }

  test('request, token and cost series reach Prometheus', async () => {
    await until(async () => (await query('up{job="tollgate"}')) === 1, 'the gateway target to be up')
    const client = new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/openai`, maxRetries: 0 })
    for (let i = 0; i < 4; i++) await client.chat.completions.create(chatJson.requestBody as OpenAI.ChatCompletionCreateParamsNonStreaming)
    for (let i = 0; i < 2; i++) for await (const _ of await client.chat.completions.create(chatStream.requestBody as OpenAI.ChatCompletionCreateParamsStreaming)) void _

    const input = records.reduce((n, r) => n + (r.usage?.tokens.input_tokens ?? 0), 0)
    const output = records.reduce((n, r) => n + (r.usage?.tokens.output_tokens ?? 0), 0)
    const cost = records.reduce((n, r) => n + (r.costNanos ?? 0), 0) / 1e9
    expect(records).toHaveLength(6)
    expect(input).toBeGreaterThan(0)
    expect(cost).toBeGreaterThan(0)

    let last: unknown
    await until(async () => {
      last = await query('sum(tollgate_requests_total{project="default",provider="openai",status_class="2xx"})')
      return last === 6
    }, 'the request count').catch((e) => {
      throw new Error(`${(e as Error).message}; last value ${last}`)
    })
    expect(await query('sum(tollgate_tokens_total{project="default",type="input"})')).toBe(input)
    expect(await query('sum(tollgate_tokens_total{project="default",type="output"})')).toBe(output)
    expect(await query('sum(tollgate_cost_usd_total{project="default"})')).toBeCloseTo(cost, 12)
    expect(await query('sum(tollgate_request_duration_seconds_count)')).toBe(6)
    expect(await query('sum(tollgate_time_to_first_byte_seconds_count{stream="true"})')).toBe(2)
    expect(await query('process_resident_memory_bytes{job="tollgate"}')).toBeGreaterThan(0)
  }, 60_000)
})
