/**
 * A client that leaves after its stream's final event has had the whole answer: the request is
 * recorded as complete (200), not as a disconnect (499), and settled on the usage it reported.
 * Before the final event, leaving is still a disconnect.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { loadCassette, type Interaction } from '../support/recordings'
import { eventually, ledgerRows } from '../spend/helpers'

let gateway: TestGateway
let upstream: ReturnType<typeof Bun.serve>
let rec: Interaction
/** How many events to send before the upstream holds its body open (all of them: the whole stream). */
let send = Infinity

beforeAll(async () => {
  const c = await loadCassette('openai', 'test_run_stream_sync_streams_real_model')
  rec = c.interactions.find((i) => i.contentType.includes('event-stream'))!
  upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch() {
      const events = new TextDecoder().decode(rec.responseBody).split(/(?<=\n\n)/)
      // The body stays open after what was sent: the client, not the upstream, ends the exchange.
      const body = new ReadableStream({
        async pull(c) {
          c.enqueue(new TextEncoder().encode(events.slice(0, send).join('')))
          await Bun.sleep(30_000)
        },
      })
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } })
    },
  })
  gateway = await startGateway(basicConfig(`[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "http://127.0.0.1:${upstream.port}/v1"\napi_key = "${CANARY.openaiKey}"`))
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop(true)
})

/** Streams a chat completion and leaves as soon as the text read so far contains `until`. */
async function readUntil(until: string): Promise<string> {
  const ctl = new AbortController()
  const res = await fetch(`${gateway.url}/openai/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CANARY.gatewayKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(rec.requestBody),
    signal: ctl.signal,
  })
  expect(res.status).toBe(200)
  const reader = res.body!.getReader()
  let text = ''
  while (!text.includes(until)) {
    const r = await reader.read()
    if (r.done) break
    text += new TextDecoder().decode(r.value)
  }
  ctl.abort()
  return text
}

async function lastLogRow() {
  await gateway.gw.requestLog.flush()
  const rows = (await gateway.gw.database.client.execute('SELECT status, error FROM request_log ORDER BY ts DESC, rowid DESC LIMIT 1')).rows
  return rows[0]!
}

test('leaving after [DONE] is a complete request, settled on the reported usage', async () => {
  send = Infinity
  const text = await readUntil('[DONE]')
  expect(text).toContain('"usage"')
  await eventually(async () => (await ledgerRows(gateway)).some((r) => r.state === 'settled'))
  const row = await lastLogRow()
  expect(row.status).toBe(200)
  expect(row.error).toBeNull()
  const settled = (await ledgerRows(gateway)).filter((r) => r.state === 'settled')
  expect(settled.at(-1)!.estimated).toBeFalsy()
})

test('leaving before the final event is still a disconnect', async () => {
  send = 2
  await readUntil('data:')
  await eventually(async () => {
    await gateway.gw.requestLog.flush()
    return (await gateway.gw.database.client.execute('SELECT count(*) AS n FROM request_log')).rows[0]!.n === 2
  })
  const row = await lastLogRow()
  expect(row.status).toBe(499)
  expect(row.error).toBe('client_disconnected')
})
