/** The Vercel AI SDK's OpenAI-compatible provider, with its base URL at the gateway's `/v1`: one chat, one stream. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createOpenAICompatible } from '@ai-sdk/openai-compatible'
import { generateText, jsonSchema, streamText, tool } from 'ai'
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

const tollgate = () => createOpenAICompatible({ name: 'tollgate', baseURL: `${gateway.url}/v1`, apiKey: CANARY.gatewayKey })

test('generateText through an alias reaches Anthropic\'s compat endpoint and gets the tool call', async () => {
  up.reset()
  const result = await generateText({
    model: tollgate()('sonnet'),
    prompt: 'What is the current time?',
    tools: { get_current_time: tool({ description: 'Get the current time.', inputSchema: jsonSchema({ type: 'object', properties: {} }) }) },
  })
  expect(up.received.map((r) => r.endpoint)).toEqual(['anthropic'])
  expect((up.received[0]!.json as { model: string }).model).toBe('claude-sonnet-4-5')
  expect(result.toolCalls[0]!.toolName).toBe('get_current_time')
  expect(result.usage.inputTokens).toBe(35)
})

test('streamText through vertex:gemini-2.5-flash', async () => {
  up.reset()
  const result = streamText({ model: tollgate()('vertex:gemini-2.5-flash'), prompt: 'What is the capital of the UK?' })
  let text = ''
  for await (const part of result.textStream) text += part
  expect(text.length).toBeGreaterThan(0)
  expect(up.received.map((r) => r.endpoint)).toEqual(['vertex'])
  expect((up.received[0]!.json as { model: string }).model).toBe('google/gemini-2.5-flash')
  expect((await result.usage).inputTokens).toBeGreaterThan(0)
})
