import { expect, test } from 'bun:test'
import { formatUsd, nanosToUsdString, roundHalfUp15, usdToNanos, withMarkup } from '../../src/spend/money'

/** The definition roundHalfUp15 shortcuts. */
const reference = (x: number) => Math.floor(Number(x.toPrecision(15)) + 0.5)

test('roundHalfUp15 equals the toPrecision definition, near halves, integers and the 1e12 edge included', () => {
  let seed = 42
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  const xs: number[] = [0, 0.5, 1.5, 2250000.0000000005, 0.4999999999, 0.5000000001, 1e12 - 0.5, 1e12 + 0.5, 999999999999.4995, 123456789.499, 123456789.501, -2.5, -0.4]
  for (let i = 0; i < 200_000; i++) {
    const mag = 10 ** Math.floor(rnd() * 14)
    const base = Math.floor(rnd() * mag)
    xs.push(rnd() * mag, base + 0.5, base + 0.5 + (rnd() - 0.5) * 1e-9, base + 0.499 + rnd() * 0.002, base + (rnd() - 0.5) * 1e-7)
  }
  // Real products of prices: tokens × USD-per-token × 1e9.
  for (const perM of [0.15, 0.6, 2.5, 10, 0.075, 3.75, 1.25, 0.0375]) for (let t = 0; t < 5000; t++) xs.push(((t * perM) / 1e6) * 1e9)
  for (const x of xs) if (roundHalfUp15(x) !== reference(x)) throw new Error(`differs at ${x}: ${roundHalfUp15(x)} vs ${reference(x)}`)
})

test('usdToNanos and withMarkup round halves up after removing binary noise', () => {
  expect(usdToNanos(0.00225)).toBe(2_250_000)
  expect(usdToNanos(1.5e-9)).toBe(2)
  expect(usdToNanos(-1)).toBe(0)
  expect(withMarkup(1001, 50)).toBe(1502)
  expect(withMarkup(1000, undefined)).toBe(1000)
})

test('USD strings: nine decimals at most, trailing zeros cut past the cents, sign kept', () => {
  expect(formatUsd(0)).toBe('$0.00')
  expect(formatUsd(100_000_000)).toBe('$0.10')
  expect(formatUsd(123_000_000)).toBe('$0.123')
  expect(formatUsd(1_000_007_200)).toBe('$1.0000072')
  expect(nanosToUsdString(7200)).toBe('0.0000072')
  expect(nanosToUsdString(-1_500_000_000)).toBe('-1.50')
})
