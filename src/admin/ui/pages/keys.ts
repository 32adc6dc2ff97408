/** Gateway keys: create (the secret shows once), list with spend against caps, revoke, limits. */
import { api, get, query } from '../api'
import { badge, clear, field, form, h, input, secretDialog, select, table } from '../dom'
import { ago, against, usdToNanos, when } from '../format'
import { adminOf, state } from '../state'
import { limitsForm, type LimitsNanos } from './limits-form'

interface Key {
  id: string
  name: string | null
  project: string
  user: string | null
  source: 'config' | 'db'
  prefix: string | null
  expires_at: number | null
  status: 'active' | 'revoked' | 'expired'
  last_used_at: number | null
  limits: LimitsNanos
  spend: { day_nanos: number; week_nanos: number; month_nanos: number; total_nanos: number }
}

const REFRESH_MS = 5000

export async function keysPage(root: HTMLElement) {
  const list = h('div')
  const detail = h('div')
  const showRevoked = input('revoked', { type: 'checkbox', id: 'show-revoked' })
  const projects = state.session!.projects
  const reload = async () => {
    const { keys } = await get<{ keys: Key[] }>(`/keys${query({ include_revoked: showRevoked.checked ? 'true' : undefined })}`)
    clear(
      list,
      table(
        ['Key', 'Project', 'Holder', 'Last used', 'Today', 'This month', 'Expires', 'Status', ''],
        keys.map((k) => [
          h('div', {}, h('strong', {}, k.name ?? k.id), h('div', { class: 'hint' }, h('code', {}, k.prefix ? `${k.prefix}…` : k.id))),
          k.project,
          k.user ?? h('em', {}, 'project key'),
          ago(k.last_used_at),
          against(k.spend.day_nanos, k.limits.daily_nanos),
          against(k.spend.month_nanos, k.limits.monthly_nanos),
          when(k.expires_at),
          badge(k.status, k.status === 'active' ? 'ok' : 'muted'),
          k.source === 'config'
            ? badge('from config', 'muted')
            : h(
                'div',
                { class: 'row-actions' },
                adminOf(k.project) && k.status === 'active'
                  ? h('button', { type: 'button', class: 'small', onclick: () => clear(detail, h('section', { class: 'card', id: 'key-limits' }, h('h2', {}, `Limits of key ${k.name ?? k.id}`), limitsForm('key', k.id, k.limits, () => (clear(detail), void reload())))) }, 'Limits')
                  : null,
                k.status === 'active'
                  ? h('button', { type: 'button', class: 'small danger', onclick: () => confirm(`Revoke key ${k.name ?? k.id}? Requests with it fail from now on.`) && void api('POST', `/keys/${k.id}/revoke`).then(reload) }, 'Revoke')
                  : null,
              ),
        ]),
        { empty: projects.length ? 'No keys yet — create one below, then use it as the API key of any OpenAI, Anthropic or Groq SDK.' : 'You are not in any project yet, so you cannot create keys. Ask for an invitation.' },
      ),
    )
  }
  showRevoked.addEventListener('change', () => void reload())
  const create = projects.length
    ? h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Create a key'),
        form(
          [
            h(
              'div',
              { class: 'grid3' },
              field('Project', select('project', projects.map((p): [string, string] => [p.id, p.id]))),
              field('Name', input('name', { maxlength: 200, placeholder: 'laptop', required: true })),
              field('Expires (optional)', input('expires', { type: 'date' })),
            ),
            h(
              'div',
              { class: 'grid3' },
              field('Daily limit, USD (optional)', input('daily', { type: 'number', min: '0', step: 'any', placeholder: 'none' }), 'At most your own and your project’s caps.'),
              projects.some((p) => adminOf(p.id))
                ? field('Holder', select('holder', [['me', 'Me (a personal key)'], ['project', 'The project (a service key)']]), 'Project admins can make keys that belong to no person.')
                : null,
            ),
          ],
          'Create key',
          async (d) => {
            const expires = String(d.get('expires') ?? '')
            const daily = usdToNanos(String(d.get('daily') ?? ''))
            const r = await api<{ secret: string }>('POST', '/keys', {
              project: d.get('project'),
              user: d.get('holder') === 'project' ? null : undefined,
              name: d.get('name'),
              expires_at: expires ? Date.parse(`${expires}T23:59:59Z`) : undefined,
              limits: daily === null ? undefined : { daily_nanos: daily },
            })
            secretDialog('Your new key', r.secret, 'Copy it now: it is shown only once. Use it as the API key of your SDK, with this gateway as the base URL.')
            await reload()
          },
        ),
      )
    : null
  clear(root, h('div', { class: 'page-head' }, h('h1', {}, 'Keys'), h('label', { class: 'check' }, showRevoked, ' Show revoked and expired')), list, detail, create)
  await reload()
  const timer = setInterval(() => void reload().catch(() => {}), REFRESH_MS)
  return () => clearInterval(timer)
}
