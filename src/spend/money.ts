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
  return Math.floor(Number((usd * NANOS_PER_USD).toPrecision(15)) + 0.5)
}

/** `$0.001234` style, at most 9 decimals, trailing zeros cut past the cents. */
export function formatUsd(nanos: number): string {
  const sign = nanos < 0 ? '-' : ''
  const abs = Math.abs(nanos)
  const whole = Math.floor(abs / NANOS_PER_USD)
  let frac = String(abs % NANOS_PER_USD).padStart(9, '0').replace(/0+$/, '')
  if (frac.length < 2) frac = frac.padEnd(2, '0')
  return `${sign}$${whole}.${frac}`
}

/** The decimal USD string of a nano amount (for headers and JSON), exact. */
export function nanosToUsdString(nanos: number): string {
  return formatUsd(nanos).replace('$', '')
}

/** Adds a markup percent to a cost, rounded to the nearest nano, halves up. */
export function withMarkup(nanos: number, percent: number | undefined): number {
  if (!percent) return nanos
  return nanos + Math.floor(Number(((nanos * percent) / 100).toPrecision(15)) + 0.5)
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
