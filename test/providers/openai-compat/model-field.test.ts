/** The front door's one body change: the top-level model value, spliced; every other byte as sent. */
import { expect, test } from 'bun:test'
import { modelValueRanges, withModel } from '../../../src/providers/openai-compat/model-field'
import { cases, type Cases } from '../../support/random'

const enc = new TextEncoder()
const dec = new TextDecoder()
const splice = (s: string, m: string) => dec.decode(withModel(enc.encode(s), m))

test('only the top-level model value changes', () => {
  expect(splice('{"model":"a:b","messages":[{"role":"user","content":"{\\"model\\":\\"x\\"}","model":"y"}]}', 'b')).toBe(
    '{"model":"b","messages":[{"role":"user","content":"{\\"model\\":\\"x\\"}","model":"y"}]}',
  )
  expect(splice(' {\n "tools" : {"model":"t"} , "model" :\t"r:m" }\n', 'm')).toBe(' {\n "tools" : {"model":"t"} , "model" :\t"m" }\n')
})

test('duplicates and escaped keys are all replaced; the new value is JSON-escaped', () => {
  expect(splice('{"model":"x","mod\\u0065l":"y","n":1,"model":"z"}', 'q"\u00e9')).toBe('{"model":"q\\"\u00e9","mod\\u0065l":"q\\"\u00e9","n":1,"model":"q\\"\u00e9"}')
})

test('a body without a string model is returned as it is', () => {
  const b = enc.encode('{"model":3,"x":"model"}')
  expect(withModel(b, 'm')).toBe(b)
  expect(modelValueRanges(enc.encode('[{"model":"x"}]'))).toEqual([])
})

/** Random JSON with the awkward parts: nested model keys, escapes, braces inside strings. */
function randomValue(c: Cases, depth: number): unknown {
  const strings = ['model', '{"model":"x"}', 'a\\"b', '}]', '\u00e9\n', ':', '']
  const k = depth <= 0 ? c.pick([0, 1, 2, 3]) : c.pick([0, 1, 2, 3, 4, 5])
  if (k === 0) return c.pick(strings)
  if (k === 1) return Math.floor(c.next() * 1e6) / 100
  if (k === 2) return c.pick([true, false, null])
  if (k === 3) return []
  if (k === 4) return Array.from({ length: c.pick([1, 2, 3]) }, () => randomValue(c, depth - 1))
  const o: Record<string, unknown> = {}
  for (let i = 0; i < c.pick([1, 2, 3]); i++) o[c.pick(['model', 'messages', 'x', '}', 'mod"el'])] = randomValue(c, depth - 1)
  return o
}

function randomJson(c: Cases, depth: number): Record<string, unknown> {
  const o: Record<string, unknown> = {}
  for (let i = 0; i < c.pick([0, 1, 2, 4]); i++) o[c.pick(['messages', 'tools', 'x', 'n', '}'])] = randomValue(c, depth)
  return o
}

test('on random JSON the result parses to the input with model replaced', () => {
  const c = cases(19)
  for (let i = 0; i < 300; i++) {
    const obj = { ...randomJson(c, 3), model: `r:${i}` }
    const text = JSON.stringify(obj, null, i % 3)
    const out = JSON.parse(splice(text, `m${i}`))
    expect(out).toEqual({ ...obj, model: `m${i}` })
  }
})
