/**
 * A database outage under load, for both engines (test/db/outage.test.ts, test/pg/outage.test.ts):
 * a gateway on the given database, OpenAI SDK clients sending steadily (JSON answers and
 * streams), the database taken away for a while mid-load and given back. Afterwards the
 * caller checks, from the database, that every 2xx a client got has its settled ledger row
 * and its request-log row, and that no reservation is left open.
 */
import { expect } from 'bun:test'
import OpenAI, { APIError } from 'openai'
import { parseConfig } from '../../src/config/load'
import { requestLog } from '../../src/db/schema'
import { spendLedger } from '../../src/db/schema-spend'
import { createGateway, type Gateway } from '../../src/gateway'
import { startFixedUpstream, type ScriptedUpstream } from '../spend/upstream'
import { listenQuietly } from './gateway'

export const OUTAGE_KEY = 'tg-outage-key-000000000000000001'

export interface OutageGateway {
  gw: Gateway
  url: string
  upstream: ScriptedUpstream
  stop(): Promise<void>
}

/** A gateway on `databaseUrl`, its write queue bounded at `queueRows`, a key with a spend limit (every request reserves). */
export async function startOutageGateway(databaseUrl: string, queueRows: number, extraToml = ''): Promise<OutageGateway> {
  const upstream = startFixedUpstream({ usage: { prompt: 20, completion: 30 }, chunks: 3, delayMs: 5 })
  const toml =
    `[database]\nurl = "${databaseUrl}"\noutage_queue_rows = ${queueRows}\n[log]\nflush_interval_ms = 50\n[logging]\nlevel = "off"\n` +
    `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${upstream.url}/v1"\napi_key = "sk-outage-upstream-0000000000"\n` +
    `[[projects]]\nid = "p"\n[[keys]]\nid = "k"\nproject = "p"\nkey = "${OUTAGE_KEY}"\nlimits = { total = 1000.0 }\n${extraToml}`
  const gw = await createGateway(await parseConfig(toml, 'outage.toml', process.env), { announce: () => {} })
  const server = listenQuietly(gw)
  return {
    gw,
    url: server.url,
    upstream,
    async stop() {
      await server.stop()
      upstream.stop()
    },
  }
}

export interface Answer {
  id: string
  status: number
  stream: boolean
  /** For errors: the code in the OpenAI error body, and retry-after. */
  code?: string
  retryAfter?: string | null
  /** When the answer came, ms since the load began. */
  at: number
}

/**
 * `clients` loops, each sending one request after another (every third a stream), until
 * `afterMs` after `outage` (run beside them: it takes the database away and gives it back)
 * has resolved. The SDK does not
 * retry (maxRetries 0): every answer is what the gateway said.
 */
export interface OutageRun {
  answers: Answer[]
  /** When the outage ended (its function resolved), ms since the load began. */
  backAt: number
}

export async function loadThroughOutage(url: string, clients: number, outage: () => Promise<void>, afterMs = 5000): Promise<OutageRun> {
  const client = new OpenAI({ apiKey: OUTAGE_KEY, baseURL: `${url}/openai`, maxRetries: 0, timeout: 20_000 })
  const answers: Answer[] = []
  const t0 = performance.now()
  let until = Infinity
  let backAt = 0
  // On a busy machine the queue may take a while to drain after the database is back: keep
  // loading (up to 25 s more) until a request is served again, so the test waits for the
  // recovery instead of assuming how long it takes.
  let servedAfterBack = false
  let hardStop = Infinity
  const more = () => performance.now() < until || (!servedAfterBack && performance.now() < hardStop)
  const seen = (a: Answer) => {
    answers.push(a)
    if (backAt && a.status === 200 && a.at > backAt) servedAfterBack = true
  }
  let n = 0
  async function one(stream: boolean): Promise<void> {
    const messages = [{ role: 'user' as const, content: `q${n++}` }]
    try {
      if (stream) {
        const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true }).withResponse()
        for await (const _ of data) {
          // read to the end: the stream settles when the relay ends
        }
        seen({ id: response.headers.get('x-tollgate-request-id')!, status: response.status, stream, at: performance.now() - t0 })
      } else {
        const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages }).withResponse()
        seen({ id: response.headers.get('x-tollgate-request-id')!, status: response.status, stream, at: performance.now() - t0 })
      }
    } catch (e) {
      if (!(e instanceof APIError) || !e.status) throw e
      const body = e.error as { code?: string } | undefined
      seen({ id: e.headers?.get('x-tollgate-request-id') ?? '', status: e.status, stream, code: body?.code ?? e.code ?? undefined, retryAfter: e.headers?.get('retry-after'), at: performance.now() - t0 })
    }
  }
  const loops = Array.from({ length: clients }, async (_, c) => {
    for (let i = c; more(); i++) {
      await one(i % 3 === 0)
      await Bun.sleep(20)
    }
  })
  const down = outage().then(() => {
    backAt = performance.now() - t0
    until = performance.now() + afterMs
    hardStop = performance.now() + 25_000
  })
  await Promise.all([...loops, down])
  return { answers, backAt }
}

/** Waits until the writer holds nothing and the ledger has flushed (the database is back). */
export async function drained(gw: Gateway, ms = 20_000): Promise<void> {
  const until = Date.now() + ms
  for (;;) {
    await gw.spend.ledger.flush()
    await gw.writer.flush(true)
    if (gw.writer.backlog.rows === 0) return
    if (Date.now() > until) throw new Error(`the write queue never drained: ${gw.writer.backlog.rows} row(s) left (${gw.writer.lastError?.error})`)
    await Bun.sleep(200)
  }
}

/** The checks after recovery: every 2xx has its settled ledger row and its request-log row; nothing open, nothing dropped; refused requests never went upstream. */
export async function expectNothingLost(o: OutageGateway, answers: Answer[]): Promise<void> {
  const db = o.gw.database.db
  const ok = answers.filter((a) => a.status >= 200 && a.status < 300)
  const refused = answers.filter((a) => a.status === 503)
  const other = answers.filter((a) => a.status !== 503 && (a.status < 200 || a.status >= 300))
  expect(other).toEqual([])
  expect(ok.length).toBeGreaterThan(50)
  const ledger = new Map((await db.select({ id: spendLedger.id, state: spendLedger.state, cost: spendLedger.costNanos }).from(spendLedger)).map((r) => [r.id, r]))
  const logged = new Map((await db.select({ id: requestLog.id, status: requestLog.status }).from(requestLog)).map((r) => [r.id, r.status]))
  const missingLedger = ok.filter((a) => ledger.get(a.id)?.state !== 'settled' || !(ledger.get(a.id)!.cost > 0))
  // A stream the SDK stops reading at [DONE] may be logged 499 (it closes before the relay has seen the upstream's end): its row is there either way.
  const missingLog = ok.filter((a) => !logged.has(a.id) || (!a.stream && logged.get(a.id) !== a.status))
  expect({ missingLedger: missingLedger.length, missingLog: missingLog.length }).toEqual({ missingLedger: 0, missingLog: 0 })
  expect([...ledger.values()].filter((r) => r.state === 'reserved')).toEqual([])
  expect(o.gw.writer.dropped - o.gw.writer.shed).toBe(0)
  // A refused request reserved nothing and never reached the upstream.
  for (const r of refused) expect(ledger.has(r.id)).toBe(false)
  expect(o.upstream.requests).toBe(ok.length)
}

/**
 * What every outage run must show: some requests were served before the queue filled and
 * again after the database came back, the rest were refused with the native 503 and its
 * Retry-After, and nothing a client got a 2xx for is missing.
 */
export async function expectOutageRecovered(o: OutageGateway, run: OutageRun): Promise<void> {
  const { answers, backAt } = run
  const refused = answers.filter((a) => a.status === 503)
  expect(refused.length).toBeGreaterThan(0)
  for (const r of refused) {
    expect(r.code).toBe('gateway_overloaded')
    expect(r.retryAfter).toBe('5')
  }
  expect(answers.some((a) => a.status === 200 && a.at > 2500 && a.at < 4000)).toBe(true)
  expect(answers.some((a) => a.status === 200 && a.at > backAt)).toBe(true)
  await expectNothingLost(o, answers)
}
