/** Key format, hashing and constant-time lookup. */
import { expect, test } from 'bun:test'
import { digestsEqual, generateKey, parseKeyId, sha256Hex } from '../../src/auth/key-format'
import { globMatcher } from '../../src/auth/principal'

test('generated keys: prefix, id, ≥128 bits of secret, stored only as a digest', () => {
  const k = generateKey()
  expect(k.secret).toMatch(/^tg_[a-z0-9]{12}_[A-Za-z0-9_-]{32}$/)
  // 32 base64url characters carry 192 bits.
  expect(k.secret.split('_').slice(2).join('_').length * 6).toBeGreaterThanOrEqual(128)
  expect(parseKeyId(k.secret)).toBe(k.id)
  expect(k.sha256).toBe(sha256Hex(k.secret))
  expect(k.displayPrefix).toBe(`tg_${k.id}_`)
  expect(new Set(Array.from({ length: 200 }, () => generateKey().secret)).size).toBe(200)
})

test('only well-formed keys parse to an id', () => {
  expect(parseKeyId('tg_abc_def')).toBeUndefined()
  expect(parseKeyId('sk-something')).toBeUndefined()
})

test('digest comparison', () => {
  const a = sha256Hex('a')
  expect(digestsEqual(a, sha256Hex('a'))).toBe(true)
  expect(digestsEqual(a, sha256Hex('b'))).toBe(false)
  expect(digestsEqual(a, 'abcd')).toBe(false)
  expect(digestsEqual('', '')).toBe(false)
})

test('model globs', () => {
  const m = globMatcher(['gpt-5*', 'claude-*', 'exact.model'])
  expect(m('gpt-5-mini')).toBe(true)
  expect(m('claude-sonnet-4-5')).toBe(true)
  expect(m('exact.model')).toBe(true)
  expect(m('exactXmodel')).toBe(false)
  expect(m('gpt-4o')).toBe(false)
})
