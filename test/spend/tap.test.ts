import { expect, test } from 'bun:test'
import { OutputTap } from '../../src/spend/tap'
import { openAiApi } from '../../src/providers/openai'

const chunk = (text: string) => `{"choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}}}]}`

test('the delivered-output count is the same whether events are scanned at the end or in between', () => {
  const texts = Array.from({ length: 3000 }, (_, i) => `word${i} with "quotes" and \\ slashes `)
  const tap = new OutputTap(openAiApi.streamFormat('chat'))
  for (const t of texts) tap.event(undefined, chunk(t))
  // JSON-escaped length of every content string, 3 characters per token, rounded up.
  const chars = texts.reduce((n, t) => n + JSON.stringify(t).length - 2, 0)
  expect(chars).toBeGreaterThan(64 * 1024)
  expect(tap.tokens).toBe(Math.ceil(chars / 3))
  // Asking twice counts nothing twice.
  expect(tap.tokens).toBe(Math.ceil(chars / 3))
  tap.event(undefined, chunk('abcdef'))
  expect(tap.tokens).toBe(Math.ceil((chars + 6) / 3))
})
