/** `[[aliases]]` follow a config reload (SIGHUP): a new alias answers, a removed one is a 404. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { parseConfig } from '../../src/config/load'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { startOAuthServer, type OAuthServer } from '../support/oauth-server'
import { SA_ENV, endpoints, providersToml, recordings, startCompatUpstream, type CompatUpstream } from './support'

let up: CompatUpstream
let oauth: OAuthServer
let gateway: TestGateway

beforeAll(async () => {
  oauth = await startOAuthServer()
  up = startCompatUpstream(endpoints(oauth), await recordings())
  gateway = await startGateway(basicConfig(providersToml(up.url, oauth)), { env: { [SA_ENV]: oauth.accountJson } })
})
afterAll(async () => {
  await gateway.stop()
  up.stop()
  oauth.stop()
})

test('aliases follow a reload', async () => {
  const client = new OpenAI({ apiKey: CANARY.gatewayKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 })
  const ask = (model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] })
  expect((await ask('fast')).model).toBe('openai/gpt-oss-120b')
  expect(await ask('flash').catch((e) => e)).toBeInstanceOf(OpenAI.NotFoundError)

  const toml = basicConfig(providersToml(up.url, oauth)).replace('name = "fast"', 'name = "flash"').replace('route = "groq"\nmodel = "openai/gpt-oss-120b"', 'route = "gemini"\nmodel = "gemini-2.5-flash"')
  const next = `${toml}\n[logging]\nlevel = "off"\n[database]\nurl = "${gateway.databaseUrl}"\n`
  await gateway.gw.reload(await parseConfig(next, 'reloaded.toml', { [SA_ENV]: oauth.accountJson }))

  up.reset()
  expect((await ask('flash')).model).toBe('gemini-2.5-flash')
  expect(up.received.map((r) => r.endpoint)).toEqual(['gemini'])
  expect(await ask('fast').catch((e) => e)).toBeInstanceOf(OpenAI.NotFoundError)
  expect((await client.models.list()).data.map((m) => m.id)).toContain('flash')
})
