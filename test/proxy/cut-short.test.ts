import { describe, expect, test } from 'bun:test'
import { cutShort } from '../../src/proxy/cut-short'
import type { RequestRecord } from '../../src/proxy/record'
import { usedTokens } from '../../src/ratelimit/gate'

describe('cutShort', () => {
  test('every end of a stream but complete, and a broken body, is cut short', () => {
    for (const e of ['client_disconnected', 'upstream_error', 'upstream_incomplete', 'idle_timeout', 'total_timeout', 'upstream_stream_error', 'upstream_body_error']) expect(cutShort(e)).toBe(true)
  })

  test('a completed response or a refusal is not', () => {
    for (const e of [undefined, 'complete', 'rate_limited', 'budget_exceeded', 'unknown_route', 'invalid_request', '']) expect(cutShort(e)).toBe(false)
  })

  test('token rate limits keep their reservation for a failed response cut short, as spend does', () => {
    const record = (error: string) => ({ status: 502, error }) as RequestRecord
    // A refusal used no tokens; a response that broke off may have.
    expect(usedTokens(record('upstream_status'))).toBe(0)
    expect(usedTokens(record('upstream_incomplete'))).toBeUndefined()
    expect(usedTokens(record('upstream_body_error'))).toBeUndefined()
  })
})
