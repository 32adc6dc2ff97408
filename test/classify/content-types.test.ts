/**
 * Issue 14's first bypass, the allowed side: a chat stream sent as text/plain, with a mixed-case
 * JSON media type or with no content type is still read as JSON, so it gets the
 * stream_options.include_usage splice, a reservation, and a price in the request log.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { scopeKey } from '../../src/spend/budget'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'

const seen: string[] = []
let upstream: ReturnType<typeof Bun.serve>
let gateway: TestGateway
let reservedDuring = 0

beforeAll(async () => {
  upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      seen.push(await req.text())
      reservedDuring = gateway.gw.spend.budget.state(scopeKey('key', 'test-key')).windows.day.reserved
      const usage = JSON.parse(seen.at(-1)!).stream_options?.include_usage ? `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12}}\n\n` : ''
      const body = `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}\n\n${usage}data: [DONE]\n\n`
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } })
    },
  })
  gateway = await startGateway(basicConfig(`[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "http://127.0.0.1:${upstream.port}/v1"\napi_key = "sk-x"\n`, 'limits = { daily = 5 }'))
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop(true)
})

for (const ct of ['text/plain', 'Application/Json', 'application/JSON; charset=utf-8', undefined]) {
  test(`a chat stream sent with ${ct ?? 'no content type'} is spliced, reserved and priced`, async () => {
    reservedDuring = 0
    const res = await fetch(`${gateway.url}/openai/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CANARY.gatewayKey}`, ...(ct ? { 'content-type': ct } : {}) },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    })
    expect(res.status).toBe(200)
    await res.text()
    expect(JSON.parse(seen.at(-1)!).stream_options).toEqual({ include_usage: true })
    expect(reservedDuring).toBeGreaterThan(0)
    await gateway.gw.requestLog.flush()
    const row = (await gateway.gw.database.client.execute({ sql: 'SELECT model, cost_nanos, input_tokens FROM request_log WHERE id = ?', args: [res.headers.get('x-tollgate-request-id')!] })).rows[0]!
    expect(row.model).toBe('gpt-4o-mini')
    expect(Number(row.input_tokens)).toBe(10)
    expect(Number(row.cost_nanos)).toBeGreaterThan(0)
  })
}
