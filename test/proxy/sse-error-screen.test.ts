/**
 * The SSE error screen on its own: an error event is redacted whole however the network cut
 * it (inside the secret, inside the marker, inside the blank line), every other event passes as
 * the same chunk object, undelayed, and an event without error marker that mentions "error" is
 * left alone.
 */
import { describe, expect, test } from 'bun:test'
import { sseErrorScreen, type ErrorRedaction } from '../../src/proxy/redact-errors'

const KEY = 'sk-test-CANARY-split-key-0000000000000000001'
const redaction: ErrorRedaction = { text: (s) => s.replaceAll(KEY, '[REDACTED]'), longest: KEY.length }
const enc = new TextEncoder()
const dec = new TextDecoder()

const NORMAL = `data: {"choices":[{"delta":{"content":"an error about ${KEY}"}}]}\n\n`
const ERRORS = [
  `data: {"error":{"message":"bad key ${KEY}","type":"server_error"}}\n\n`,
  `event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"bad key ${KEY}"}}\n\n`,
  `event: error\r\ndata: {"type":"error","error":{"message":"bad key ${KEY}"}}\r\n\r\n`,
  `id: 7\nevent: error\ndata: {"type":"error","message":"bad key ${KEY} and again ${KEY}"}\n\n`,
]

/** What the client gets for `parts`, each pushed as one network chunk. */
function run(parts: string[]): { out: string; pushed: Uint8Array[]; got: Uint8Array[] } {
  const s = sseErrorScreen(redaction)
  const pushed = parts.map((p) => enc.encode(p))
  const got = pushed.map((p) => s.push(p))
  const rest = s.end()
  return { out: got.map((g) => dec.decode(g)).join('') + (rest ? dec.decode(rest) : ''), pushed, got }
}

describe('sseErrorScreen', () => {
  test('ordinary events are the same chunk objects, even when they mention "error" and the key', () => {
    const parts = [NORMAL, 'data: {"type":"response.output_text.delta","delta":"error"}\n\n', 'event: ping\ndata: {}\n\n']
    const { pushed, got } = run(parts)
    for (let i = 0; i < parts.length; i++) expect(got[i]).toBe(pushed[i]!)
  })

  for (const [n, error] of ERRORS.entries()) {
    test(`error event ${n + 1} is redacted wherever it is cut, the event before it untouched and undelayed`, () => {
      for (let cut = 1; cut < error.length; cut++) {
        const { out, pushed, got } = run([NORMAL, error.slice(0, cut), error.slice(cut)])
        expect(got[0]).toBe(pushed[0]!)
        expect(out.slice(NORMAL.length)).not.toContain(KEY)
        expect(out).toBe(NORMAL + error.replaceAll(KEY, '[REDACTED]'))
      }
    })
  }

  test('cut in three, the error event and a normal one after it in the same chunk', () => {
    const error = ERRORS[1]!
    const at = error.indexOf(KEY)
    for (const [a, b] of [[3, at + 5], [at + 1, at + 2], [at + 10, error.length - 1]] as const) {
      const { out } = run([error.slice(0, a), error.slice(a, b), error.slice(b) + NORMAL])
      expect(out).toBe(error.replaceAll(KEY, '[REDACTED]') + NORMAL)
    }
  })

  test('an error event never closed by a blank line is written redacted at the end', () => {
    const error = ERRORS[0]!.trimEnd()
    const { out } = run([NORMAL, error.slice(0, 40), error.slice(40)])
    expect(out).toBe(NORMAL + error.replaceAll(KEY, '[REDACTED]'))
  })

  test('a huge error event is written in pieces, without the secret even where a piece ends', () => {
    const filler = 'x'.repeat(300 * 1024)
    const error = `data: {"error":{"message":"${filler} bad key ${KEY}"}}\n\n`
    const at = error.indexOf(KEY)
    for (const cut of [at + 1, at + 20]) {
      const { out } = run([error.slice(0, 1000), error.slice(1000, cut), error.slice(cut)])
      expect(out).toBe(error.replaceAll(KEY, '[REDACTED]'))
    }
  })
})
