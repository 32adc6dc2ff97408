/**
 * The service-account token source against the local OAuth server, which verifies every JWT it is
 * sent. A movable clock drives the cache decisions, so expiry is tested without waiting.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { exportPKCS8, generateKeyPair } from 'jose'
import { GatewayError } from '../../src/errors'
import { AccessTokenSource, EAGER_REFRESH_MS, MIN_VALIDITY_MS } from '../../src/providers/google-vertex/token'
import { startOAuthServer, type OAuthServer } from '../support/oauth-server'
import { eventually } from './support'

let oauth: OAuthServer

beforeAll(async () => {
  oauth = await startOAuthServer()
})
afterAll(() => oauth.stop())

function source(clock = { t: 1_000_000 }) {
  return { clock, tokens: new AccessTokenSource(oauth.account, oauth.tokenUrl, { now: () => clock.t, label: 'vertex-test' }) }
}

describe('AccessTokenSource', () => {
  test('its signed JWT is accepted and the token is cached', async () => {
    const before = oauth.issued.length
    const { tokens } = source()
    const first = await tokens.get()
    expect(oauth.issued.at(-1)).toBe(first)
    for (let i = 0; i < 10; i++) expect(await tokens.get()).toBe(first)
    expect(oauth.issued.length - before).toBe(1)
    expect(oauth.refused).toEqual([])
  })

  test('many concurrent callers share one token request', async () => {
    const requestsBefore = oauth.requests
    const { tokens } = source()
    const release = oauth.hold()
    // All 50 ask before any answer can arrive: the endpoint is held.
    const waiting = Array.from({ length: 50 }, () => tokens.get())
    await eventually(() => oauth.requests > requestsBefore, 'the token request')
    release()
    const got = await Promise.all(waiting)
    expect(new Set(got).size).toBe(1)
    expect(oauth.requests - requestsBefore).toBe(1)
    expect(tokens.fetches).toBe(1)
  })

  test('shortly before expiry it refreshes in the background, without making anyone wait', async () => {
    const { tokens, clock } = source()
    const first = await tokens.get()
    // Inside the eager window: the old token is still served, even while the refresh is held.
    clock.t += 3600_000 - EAGER_REFRESH_MS + 1
    const release = oauth.hold()
    const requestsBefore = oauth.requests
    expect(await tokens.get()).toBe(first)
    expect(await tokens.get()).toBe(first)
    await eventually(() => oauth.requests > requestsBefore, 'the background refresh')
    release()
    await eventually(() => tokens.fetches === 2, 'the refresh to finish')
    await eventually(() => oauth.issued.at(-1) !== first, 'a new token')
    const second = await tokens.get()
    expect(second).not.toBe(first)
    expect(second).toBe(oauth.issued.at(-1)!)
    expect(tokens.fetches).toBe(2)
  })

  test('a token about to expire is not used: callers wait for a fresh one', async () => {
    const { tokens, clock } = source()
    const first = await tokens.get()
    clock.t += 3600_000 - MIN_VALIDITY_MS + 1
    const second = await tokens.get()
    expect(second).not.toBe(first)
    expect(tokens.fetches).toBe(2)
  })

  test('a short-lived token is used until its own expiry', async () => {
    oauth.expiresIn = 200
    try {
      const { tokens, clock } = source()
      const first = await tokens.get()
      // 200 s is inside the eager window at once: served, refreshed on the side.
      expect(await tokens.get()).toBe(first)
      await eventually(() => tokens.fetches === 2, 'background refresh')
      clock.t += 200_000
      const next = await tokens.get()
      expect(next).not.toBe(first)
    } finally {
      oauth.expiresIn = 3600
    }
  })

  test('a key the endpoint does not know is refused; the error names no secret', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true })
    const pem = await exportPKCS8(privateKey)
    const stranger = new AccessTokenSource({ ...oauth.account, private_key: pem }, oauth.tokenUrl, { label: 'vertex-test' })
    const refusedBefore = oauth.refused.length
    const err = (await stranger.get().catch((e) => e)) as GatewayError
    expect(err).toBeInstanceOf(GatewayError)
    expect(err.status).toBe(502)
    expect(err.code).toBe('upstream_auth_failed')
    expect(err.message).toContain('answered 400')
    expect(err.message).not.toContain('PRIVATE KEY')
    expect(oauth.refused.slice(refusedBefore)).toEqual([expect.stringContaining('signature')])
    // A failure is not cached: the next call tries again.
    await stranger.get().catch(() => {})
    expect(stranger.fetches).toBe(2)
  })

  test('the audience must be the endpoint it is sent to', async () => {
    const elsewhere = new AccessTokenSource(oauth.account, `${oauth.url}/token?x=1`)
    const refusedBefore = oauth.refused.length
    await elsewhere.get().catch(() => {})
    expect(oauth.refused.slice(refusedBefore)).toEqual([expect.stringContaining('aud')])
  })

  test('an unreachable endpoint is a 502, not a crash', async () => {
    const dead = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('') })
    const url = `http://127.0.0.1:${dead.port}/token`
    dead.stop(true)
    const err = (await new AccessTokenSource(oauth.account, url).get().catch((e) => e)) as GatewayError
    expect(err.status).toBe(502)
    expect(err.code).toBe('upstream_auth_failed')
  })
})
