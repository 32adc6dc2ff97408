/** Editing limits (USD in the form, nano-dollars on the wire) for a project, user or key. */
import { api } from '../api'
import { field, form, h, input } from '../dom'
import { nanosToUsdInput, usd, usdToNanos } from '../format'

export interface LimitsNanos {
  daily_nanos: number | null
  weekly_nanos: number | null
  monthly_nanos: number | null
  total_nanos: number | null
}

const WINDOWS = [
  ['daily', 'Daily'],
  ['weekly', 'Weekly'],
  ['monthly', 'Monthly'],
  ['total', 'Total'],
] as const

export function limitsText(l: LimitsNanos): string {
  const parts = WINDOWS.filter(([w]) => l[`${w}_nanos`] !== null).map(([w, label]) => `${label} ${usd(l[`${w}_nanos`])}`)
  return parts.length ? parts.join(' · ') : 'No limits'
}

export function limitsForm(scope: 'project' | 'user' | 'key', id: string, current: LimitsNanos, done: () => void): HTMLFormElement {
  const fields = WINDOWS.map(([w, label]) =>
    field(`${label} limit (USD)`, input(w, { type: 'number', min: '0', step: 'any', value: nanosToUsdInput(current[`${w}_nanos`]), placeholder: 'none', inputmode: 'decimal' })),
  )
  return form(
    [h('div', { class: 'grid4' }, ...fields)],
    'Save limits',
    async (d) => {
      const body: Record<string, number | null> = {}
      for (const [w] of WINDOWS) body[`${w}_nanos`] = usdToNanos(String(d.get(w) ?? ''))
      await api('PUT', `/limits/${scope}/${encodeURIComponent(id)}`, body)
      done()
    },
    { class: 'stack inline-form' },
  )
}
