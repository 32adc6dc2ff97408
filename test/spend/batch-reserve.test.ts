/**
 * An Anthropic inline message batch names a model per request: the gateway reserves the whole
 * batch at the dearest of them (never at the first one's price), and refuses the batch when any
 * of them cannot be priced and a limit needs the price.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { scopeKey } from '../../src/spend/budget'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'

let upstream: ReturnType<typeof Bun.serve>
let gateway: TestGateway
let reservedDuring = 0

beforeAll(async () => {
  upstream = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch() {
      reservedDuring = gateway.gw.spend.budget.state(scopeKey('key', 'test-key')).windows.day.reserved
      return Response.json({ id: 'msgbatch_1', type: 'message_batch', processing_status: 'in_progress' })
    },
  })
  gateway = await startGateway(basicConfig(`[[providers]]\nid = "anthropic"\napi = "anthropic"\nbase_url = "http://127.0.0.1:${upstream.port}"\napi_key = "sk-ant-x"\n`, 'limits = { daily = 100 }'))
})
afterAll(async () => {
  await gateway.stop()
  upstream.stop(true)
})

const batch = (...models: string[]) =>
  fetch(`${gateway.url}/anthropic/v1/messages/batches`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CANARY.gatewayKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ requests: models.map((model, i) => ({ custom_id: `r${i}`, params: { model, max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] } })) }),
  })

test('the batch is reserved at its dearest model, wherever it is in the list', async () => {
  const amounts: number[] = []
  for (const models of [['claude-3-5-haiku-latest', 'claude-3-5-haiku-latest'], ['claude-3-5-haiku-latest', 'claude-opus-4-1'], ['claude-opus-4-1', 'claude-3-5-haiku-latest']]) {
    const res = await batch(...models)
    expect(res.status).toBe(200)
    await res.arrayBuffer()
    amounts.push(reservedDuring)
  }
  const [cheap, dearLast, dearFirst] = amounts as [number, number, number]
  expect(cheap).toBeGreaterThan(0)
  // Opus output costs many times Haiku's: the reservation follows the dearest model, not the first.
  expect(dearLast).toBeGreaterThan(5 * cheap)
  expect(dearLast).toBe(dearFirst)
})

test('one unpriceable model in a batch refuses the batch for a limited key', async () => {
  const res = await batch('claude-3-5-haiku-latest', 'claude-house-unpriced')
  expect(res.status).toBe(400)
  const body = (await res.json()) as { error: { message: string } }
  expect(body.error.message).toContain('claude-house-unpriced')
})
