/**
 * Money is integer nano-dollars (1e-9 USD) everywhere it is stored or compared.
 * genai-prices answers in float USD; one request's price becomes nanos once, here.
 */
export const NANOS_PER_USD = 1_000_000_000

/**
 * USD (float) → nano-dollars, rounded to the nearest nano with halves up. The product is
 * first cut to 15 significant digits, which removes binary noise such as
 * 0.00225 * 1e9 = 2250000.0000000005 without touching any real digit of a price.
 */
export function usdToNanos(usd: number): number {
  if (!Number.isFinite(usd) || usd <= 0) return 0
  return roundHalfUp15(usd * NANOS_PER_USD)
}

/**
 * `floor(x + 0.5)` of `x` cut to 15 significant digits. The cut (toPrecision) is slow, and below
 * 1e12 it moves `x` by at most 5e-4 towards a grid that holds every integer, so it can change
 * the answer only when `x` sits within that of a half: elsewhere the fraction decides alone.
 */
export function roundHalfUp15(x: number): number {
  if (x >= 0 && x < 1e12) {
    const whole = Math.floor(x)
    const frac = x - whole
    if (frac < 0.499) return whole
    if (frac > 0.501) return whole + 1
  }
  return Math.floor(Number(x.toPrecision(15)) + 0.5)
}

/** `$0.001234` style, at most 9 decimals, trailing zeros cut past the cents. */
export function formatUsd(nanos: number): string {
  const sign = nanos < 0 ? '-' : ''
  const abs = Math.abs(nanos)
  const whole = Math.floor(abs / NANOS_PER_USD)
  const digits = String(abs % NANOS_PER_USD).padStart(9, '0')
  // Trailing zeros cut, but never into the cents.
  let end = 9
  while (end > 2 && digits.charCodeAt(end - 1) === 48 /* 0 */) end--
  const frac = digits.slice(0, end)
  return `${sign}$${whole}.${frac}`
}

/** The decimal USD string of a nano amount (for headers and JSON), exact: formatUsd without the `$`. */
export function nanosToUsdString(nanos: number): string {
  const s = formatUsd(nanos)
  return s.charCodeAt(0) === 36 /* $ */ ? s.slice(1) : `-${s.slice(2)}`
}

/** Adds a markup percent to a cost, rounded to the nearest nano, halves up. */
export function withMarkup(nanos: number, percent: number | undefined): number {
  if (!percent) return nanos
  return nanos + roundHalfUp15((nanos * percent) / 100)
}

/** Config limits (USD) → nano-dollars per window. */
export function limitsToNanos(l: { daily?: number; weekly?: number; monthly?: number; total?: number } | undefined): Partial<Record<'day' | 'week' | 'month' | 'total', number>> {
  const n: Partial<Record<'day' | 'week' | 'month' | 'total', number>> = {}
  if (!l) return n
  if (l.daily !== undefined) n.day = Math.round(l.daily * NANOS_PER_USD)
  if (l.weekly !== undefined) n.week = Math.round(l.weekly * NANOS_PER_USD)
  if (l.monthly !== undefined) n.month = Math.round(l.monthly * NANOS_PER_USD)
  if (l.total !== undefined) n.total = Math.round(l.total * NANOS_PER_USD)
  return n
}
