/** BoundedMap: caches keyed by client values stay bounded in entries and in key bytes. */
import { expect, test } from 'bun:test'
import { BoundedMap } from '../src/bounded-map'
import { Pricer } from '../src/spend/prices'
import { LabelGuard } from '../src/telemetry/labels'
import { Redactor } from '../src/telemetry/redact'

test('entries: the oldest go first', () => {
  const m = new BoundedMap<number>(3, 1 << 20)
  for (let i = 0; i < 10; i++) m.set(`k${i}`, i)
  expect(m.size).toBe(3)
  expect([m.has('k6'), m.has('k7'), m.get('k9')]).toEqual([false, true, 9])
})

test('bytes: long keys push out old ones; a key past maxKeyChars is never stored', () => {
  const m = new BoundedMap<number>(1000, 4000, 1024)
  for (let i = 0; i < 100; i++) m.set(`${i}`.padEnd(500, 'x'), i)
  expect(m.bytes).toBeLessThanOrEqual(4000)
  expect(m.size).toBe(4)
  m.set('y'.repeat(2 * 1024 * 1024), 1)
  expect(m.size).toBe(4)
  expect(m.bytes).toBeLessThanOrEqual(4000)
  m.clear()
  expect([m.size, m.bytes]).toEqual([0, 0])
})

test('the pricing caches hold at most 10,000 names and 4 MB of keys', () => {
  const p = new Pricer({ unknown_model: 'allow', default_max_output_tokens: 1, unseen_context_tokens: 1, models: [] } as never)
  for (let i = 0; i < 12_000; i++) p.facts(`no-such-model-${i}`, 'openai', 'openai', new Date())
  expect(p.cacheStats().entries).toBeLessThanOrEqual(10_000)
  for (let i = 0; i < 9_000; i++) p.facts(`${i}-`.padEnd(1000, 'm'), 'openai', 'openai', new Date())
  expect(p.cacheStats().bytes).toBeLessThanOrEqual(4 << 20)
})

test('the label guard keeps 200 raw values per label, none longer than 256 characters', () => {
  const g = new LabelGuard(new Redactor([]))
  expect(g.value('model', 'm'.repeat(2 * 1024 * 1024))).toBe('other')
  for (let i = 0; i < 500; i++) g.value('model', `${i}`.padEnd(256, 'x'))
  expect(g.held.values).toBe(200)
  expect(g.held.chars).toBeLessThanOrEqual(200 * 256)
  expect(g.value('model', 'late')).toBe('other')
})
