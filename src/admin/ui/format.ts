/** Money is integer nano-dollars on the wire; people read dollars. */
export function usd(nanos: number | null | undefined): string {
  if (nanos === null || nanos === undefined) return '—'
  const v = nanos / 1e9
  if (v === 0) return '$0.00'
  if (Math.abs(v) < 0.01) return `$${v.toFixed(6)}`
  return `$${v.toFixed(2)}`
}

export function usdToNanos(s: string): number | null {
  if (s.trim() === '') return null
  return Math.round(Number(s) * 1e9)
}

export function nanosToUsdInput(n: number | null | undefined): string {
  return n === null || n === undefined ? '' : String(n / 1e9)
}

export function when(ms: number | null | undefined): string {
  if (!ms) return '—'
  const d = new Date(ms)
  return d.toISOString().replace('T', ' ').slice(0, 19) + ' UTC'
}

export function ago(ms: number | null | undefined): string {
  if (!ms) return 'never'
  const s = Math.round((Date.now() - ms) / 1000)
  if (s < 60) return `${Math.max(s, 0)} s ago`
  if (s < 3600) return `${Math.round(s / 60)} min ago`
  if (s < 86400) return `${Math.round(s / 3600)} h ago`
  return `${Math.round(s / 86400)} d ago`
}

export function num(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : n.toLocaleString('en-US')
}

/** "spent of limit" with a bar. */
export function against(spent: number, limit: number | null): string {
  return limit === null ? `${usd(spent)} (no limit)` : `${usd(spent)} of ${usd(limit)}`
}
