/** The request log: filters (project, user, key, model, status, time), a table, and a detail view. */
import { get, query } from '../api'
import { badge, clear, field, h, input, select, table } from '../dom'
import { num, usd, when } from '../format'
import { state } from '../state'

interface Entry {
  id: string
  ts: number
  key_id: string | null
  project: string | null
  user: string | null
  provider: string | null
  model: string | null
  method: string
  path: string
  stream: boolean
  status: number
  duration_ms: number
  ttfb_ms: number | null
  input_tokens: number | null
  output_tokens: number | null
  cache_read_tokens: number | null
  cache_write_tokens: number | null
  cost_nanos: number | null
  error: string | null
}

const REFRESH_MS = 3000

const statusBadge = (s: number) => badge(String(s), s < 400 ? 'ok' : s < 500 ? 'warn' : 'bad')

export async function requestLogPage(root: HTMLElement) {
  const projects = state.session!.projects
  const f = {
    project: select('project', [['', 'All projects'], ...projects.map((p): [string, string] => [p.id, p.id])]),
    user: input('user', { placeholder: 'user id' }),
    key: input('key', { placeholder: 'key id' }),
    model: input('model', { placeholder: 'model' }),
    status: select('status', [['', 'Any status'], ['2xx', '2xx'], ['4xx', '4xx'], ['5xx', '5xx'], ['error', 'errors'], ['429', '429']]),
    from: input('from', { type: 'datetime-local' }),
    to: input('to', { type: 'datetime-local' }),
  }
  const list = h('div')
  const err = h('div', { class: 'form-error', role: 'alert' })
  const load = async () => {
    const t = (v: string) => (v ? Date.parse(`${v}Z`) : undefined)
    const q = query({ project: f.project.value, user: f.user.value.trim(), key: f.key.value.trim(), model: f.model.value.trim(), status: f.status.value, from: t(f.from.value), to: t(f.to.value), limit: 100 })
    try {
      const { entries } = await get<{ entries: Entry[] }>(`/request-log${q}`)
      err.textContent = ''
      clear(
        list,
        table(
          ['Time', 'Status', 'Project', 'User', 'Key', 'Model', 'Tokens in/out', 'Cost', 'Duration', ''],
          entries.map((e) => [when(e.ts), statusBadge(e.status), e.project ?? '—', e.user ?? '—', e.key_id ?? '—', e.model ?? '—', `${num(e.input_tokens)} / ${num(e.output_tokens)}`, usd(e.cost_nanos), `${e.duration_ms} ms`, h('a', { href: `#/requests/${e.id}`, 'aria-label': `Details of request ${e.id}` }, 'Details')]),
          { empty: 'No requests match. Requests appear here within a second or two of finishing.' },
        ),
      )
    } catch (e) {
      err.textContent = (e as Error).message
    }
  }
  for (const el of Object.values(f)) el.addEventListener('change', () => void load())
  clear(
    root,
    h('div', { class: 'page-head' }, h('h1', {}, 'Request log')),
    h(
      'form',
      { class: 'filters-bar', onsubmit: (e: Event) => (e.preventDefault(), void load()) },
      field('Project', f.project),
      field('User', f.user),
      field('Key', f.key),
      field('Model', f.model),
      field('Status', f.status),
      field('From (UTC)', f.from),
      field('To (UTC)', f.to),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Filter')),
    ),
    err,
    list,
  )
  await load()
  const timer = setInterval(() => void load(), REFRESH_MS)
  return () => clearInterval(timer)
}

export async function requestDetailPage(root: HTMLElement, [id]: string[]) {
  const { entry: e, usage } = await get<{ entry: Entry; usage: unknown }>(`/request-log/${encodeURIComponent(id!)}`)
  const rows: [string, Node | string][] = [
    ['Request id', h('code', {}, e.id)],
    ['Time', when(e.ts)],
    ['Status', statusBadge(e.status)],
    ['Error', e.error ?? '—'],
    ['Project', e.project ?? '—'],
    ['User', e.user ?? '—'],
    ['Key', e.key_id ?? '—'],
    ['Provider', e.provider ?? '—'],
    ['Model', e.model ?? '—'],
    ['Request', `${e.method} ${e.path}${e.stream ? ' (stream)' : ''}`],
    ['Duration', `${e.duration_ms} ms (first byte ${e.ttfb_ms ?? '—'} ms)`],
    ['Tokens', `in ${num(e.input_tokens)} · out ${num(e.output_tokens)} · cache read ${num(e.cache_read_tokens)} · cache write ${num(e.cache_write_tokens)}`],
    ['Cost', usd(e.cost_nanos)],
  ]
  clear(
    root,
    h('div', { class: 'page-head' }, h('h1', {}, 'Request'), h('a', { href: '#/requests' }, '← Request log')),
    h('section', { class: 'card' }, h('dl', { class: 'detail' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))),
    h('section', { class: 'card' }, h('h2', {}, 'Usage as the provider reported it'), h('pre', {}, JSON.stringify(usage, null, 2) ?? 'none')),
  )
}
