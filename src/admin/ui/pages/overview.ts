/** Overview: spend today, this week and this month against limits; requests, tokens, error rate; live charts. */
import { get, query } from '../api'
import { RequestsLatency, StackedBars, type Point } from '../charts'
import { clear, h, select } from '../dom'
import { num, usd } from '../format'
import { isOrgAdmin, state } from '../state'

interface Totals {
  start: number
  spend_nanos: number
  requests: number
  errors: number
  input_tokens: number
  output_tokens: number
}
interface Summary {
  day: Totals
  week: Totals
  month: Totals
  limits: { daily_nanos: number | null; weekly_nanos: number | null; monthly_nanos: number | null } | null
}

const REFRESH_MS = 3000

export async function overviewPage(root: HTMLElement) {
  const projects = state.session!.projects
  const scope = select('scope', [['', isOrgAdmin() ? 'Whole organisation' : 'Everything I can see'], ...projects.map((p): [string, string] => [p.id, `Project ${p.id}`])], { 'aria-label': 'Scope' })
  const groupBy = select('group', [['project', 'by project'], ['user', 'by user'], ['model', 'by model']], { 'aria-label': 'Group spend by' })
  const cards = h('div', { class: 'cards' })
  const spendChart = h('div', { class: 'chart', id: 'spend-chart' })
  const reqChart = h('div', { class: 'chart', id: 'requests-chart' })
  const updated = h('span', { class: 'hint', 'aria-live': 'off' })
  const err = h('div', { class: 'form-error', role: 'alert' })
  clear(
    root,
    h('div', { class: 'page-head' }, h('h1', {}, 'Overview'), h('div', { class: 'filters' }, scope, updated)),
    err,
    cards,
    h('section', { class: 'card' }, h('div', { class: 'section-head' }, h('h2', {}, 'Spend per day, last 14 days'), groupBy), spendChart),
    h('section', { class: 'card' }, h('h2', {}, 'Requests and latency, last hour'), reqChart),
  )
  // An empty chart still reads in dollars: its axis tops out at one cent.
  const spend = new StackedBars(spendChart, (v) => usd(v), 10_000_000)
  const reqs = new RequestsLatency(reqChart)

  const refresh = async () => {
    const s = scope.value ? { project: scope.value } : {}
    const now = Date.now()
    const [sum, days, minutes] = await Promise.all([
      get<Summary>(`/usage/summary${query(s)}`),
      get<{ points: Point[]; starts: number[]; bucket_ms: number; timezone: string }>(`/usage/series${query({ ...s, bucket: 'day', group: groupBy.value, from: now - 13 * 86_400_000 - (now % 86_400_000), to: now })}`),
      get<{ points: Point[]; starts: number[]; bucket_ms: number }>(`/usage/series${query({ ...s, bucket: 'minute', group: 'none', from: now - 3_600_000, to: now + 60_000 })}`),
    ])
    renderCards(cards, sum)
    spend.update(days.points, days.starts, days.bucket_ms, (p) => p.spend_nanos, days.timezone)
    reqs.update(minutes.points, minutes.starts, minutes.bucket_ms)
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`
    if (!sum.month.requests) {
      err.textContent = ''
      err.replaceChildren(h('div', { class: 'empty' }, 'No requests yet. Create a key on the ', h('a', { href: '#/keys' }, 'Keys'), ' page and point an SDK at this gateway; spend appears here within seconds.'))
    } else err.replaceChildren()
  }
  scope.addEventListener('change', () => void refresh())
  groupBy.addEventListener('change', () => void refresh())
  await refresh()
  const timer = setInterval(() => void refresh().catch((e) => (err.textContent = (e as Error).message)), REFRESH_MS)
  return () => clearInterval(timer)
}

function renderCards(el: HTMLElement, s: Summary): void {
  const card = (title: string, t: Totals, limit: number | null | undefined) => {
    const pct = limit ? Math.min(100, (t.spend_nanos / limit) * 100) : undefined
    return h(
      'section',
      { class: 'card stat', 'aria-label': title },
      h('h2', {}, title),
      h('div', { class: 'big-number' }, usd(t.spend_nanos)),
      h('div', { class: 'hint' }, limit ? `of ${usd(limit)} limit` : 'no limit on this scope'),
      pct !== undefined ? h('div', { class: 'meter', role: 'meter', 'aria-valuenow': Math.round(pct), 'aria-valuemin': 0, 'aria-valuemax': 100 }, h('div', { class: `meter-fill${pct >= 90 ? ' hot' : ''}`, style: `width:${pct}%` })) : null,
      h(
        'dl',
        {},
        h('dt', {}, 'Requests'),
        h('dd', {}, num(t.requests)),
        h('dt', {}, 'Tokens in / out'),
        h('dd', {}, `${num(t.input_tokens)} / ${num(t.output_tokens)}`),
        h('dt', {}, 'Error rate'),
        h('dd', {}, t.requests ? `${((t.errors / t.requests) * 100).toFixed(1)}%` : '—'),
      ),
    )
  }
  clear(el, card('Today', s.day, s.limits?.daily_nanos), card('This week', s.week, s.limits?.weekly_nanos), card('This month', s.month, s.limits?.monthly_nanos))
}
