/**
 * OpenAI chat streams with include_usage carry `"usage": null` in every chunk but the one that
 * reports it. The usage reader must still find the real usage, and parse only the chunks worth
 * it: the first (for the model) and the one with usage, not every chunk of a long answer.
 */
import { afterEach, expect, spyOn, test } from 'bun:test'
import { chatStreamUsage } from '../../src/providers/shared/openai-stream-usage'
import { sseDecoder } from '../../src/proxy/sse'
import { loadCassette } from '../support/recordings'

afterEach(() => {
  ;(JSON.parse as unknown as { mockRestore?: () => void }).mockRestore?.()
})

test('a recorded OpenAI stream: usage from its usage chunk, and no parse of the "usage": null chunks', async () => {
  const { interactions } = await loadCassette('openai', 'test_run_stream_sync_streams_real_model')
  const x = interactions.find((i) => i.contentType.includes('event-stream') && new TextDecoder().decode(i.responseBody).includes('"usage":null'))!
  const text = new TextDecoder().decode(x.responseBody)
  const nullChunks = text.match(/"usage":null/g)?.length ?? 0
  // The premise: the recording is the shape this guards against.
  expect(nullChunks).toBeGreaterThan(5)
  // What the reader must find, read here straight from the recording.
  const reported = JSON.parse(text.split('\n').find((l) => l.startsWith('data: {') && l.includes('"usage":{'))!.slice(6)) as { model: string; usage: { prompt_tokens: number; completion_tokens: number } }

  const reader = chatStreamUsage('openai', 'chat')
  const decoder = sseDecoder(reader)
  const parse = spyOn(JSON, 'parse')
  decoder.push(x.responseBody)
  decoder.end()
  const parsed = parse.mock.calls.length
  parse.mockRestore()

  const usage = reader.result()
  expect(usage?.tokens).toMatchObject({ input_tokens: reported.usage.prompt_tokens, output_tokens: reported.usage.completion_tokens })
  expect(usage?.model).toBe(reported.model)
  // The first chunk (model) and the usage chunk; the usage extractor parses nothing itself.
  expect(parsed).toBeLessThanOrEqual(2)
})

test('usage with spaces around the colon, and Groq’s x_groq.usage, are still read', () => {
  const reader = chatStreamUsage('openai', 'chat')
  reader.event(undefined, '{"model":"gpt-4o-mini","choices":[{"delta":{"content":"Hi"}}],"usage": null}')
  reader.event(undefined, '{"model":"gpt-4o-mini","choices":[],"usage" : {"prompt_tokens":7,"completion_tokens":2,"total_tokens":9}}')
  expect(reader.result()?.tokens).toMatchObject({ input_tokens: 7, output_tokens: 2 })

  // As the Groq plugin reads its streams (src/providers/groq/usage.ts).
  const groq = chatStreamUsage('groq', 'default')
  groq.event(undefined, '{"model":"llama-3.3-70b-versatile","choices":[],"x_groq":{"id":"req_1","usage":{"prompt_tokens":11,"completion_tokens":3,"total_tokens":14}}}')
  expect(groq.result()?.tokens).toMatchObject({ input_tokens: 11, output_tokens: 3 })
})

test('text that merely mentions "usage" inside the content is not taken for usage', () => {
  const reader = chatStreamUsage('openai', 'chat')
  reader.event(undefined, '{"model":"gpt-4o-mini","choices":[{"delta":{"content":"the \\"usage\\": {} field"}}],"usage":null}')
  expect(reader.result()).toBeUndefined()
})
