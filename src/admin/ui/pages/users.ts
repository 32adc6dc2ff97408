/** Users (with their org role and projects) and, for org admins, their limits. */
import { api, get } from '../api'
import { badge, clear, field, form, h, input, select, table } from '../dom'
import { ago } from '../format'
import { isOrgAdmin, state } from '../state'
import { limitsForm, limitsText, type LimitsNanos } from './limits-form'

interface User {
  id: string
  email: string | null
  name: string | null
  role: 'admin' | 'member'
  source: 'config' | 'db'
  limits: LimitsNanos
  projects: { id: string; role: string }[]
  last_seen_at: number | null
}

export async function usersPage(root: HTMLElement) {
  const { users } = await get<{ users: User[] }>('/users')
  const reload = () => void usersPage(root)
  const detail = h('div')
  const rows = users.map((u) => {
    let role: Node = badge(u.role === 'admin' ? 'org admin' : 'member', u.role === 'admin' ? 'ok' : '')
    if (isOrgAdmin() && u.source === 'db' && u.id !== state.session?.user?.id) {
      const s = select('role', [['member', 'member'], ['admin', 'org admin']], { 'aria-label': `Organisation role of ${u.id}` })
      s.value = u.role
      s.addEventListener('change', () => void api('PATCH', `/users/${encodeURIComponent(u.id)}`, { role: s.value }).then(reload, (e) => alert((e as Error).message)))
      role = s
    }
    const limits = isOrgAdmin() && u.source === 'db' ? h('button', { type: 'button', class: 'link', onclick: () => clear(detail, h('section', { class: 'card' }, h('h2', {}, `Limits of ${u.id}`), limitsForm('user', u.id, u.limits, reload))) }, limitsText(u.limits)) : limitsText(u.limits)
    return [h('strong', {}, u.id), u.email ?? '—', role, u.projects.map((p) => `${p.id} (${p.role})`).join(', ') || '—', limits, ago(u.last_seen_at), u.source === 'config' ? badge('from config', 'muted') : badge('UI')]
  })
  // Org admins may add someone before they first sign in: the account binds to them at their first single sign-on with this verified email.
  const preRegister = isOrgAdmin()
    ? h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Pre-register a user'),
        form(
          [
            field('User id', input('id', { required: true, pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]*', maxlength: 64, placeholder: 'e.g. jane' }), 'Letters, digits, dot, dash, underscore; cannot change.'),
            field('Email', input('email', { type: 'email', required: true, maxlength: 320, placeholder: 'jane@example.com' }), 'They are bound to this account when they first sign in with this verified email.'),
            field('Name', input('name', { maxlength: 200 })),
            field('Organisation role', select('role', [['member', 'member'], ['admin', 'org admin']])),
          ],
          'Add user',
          async (d) => {
            await api('POST', '/users', { id: d.get('id'), email: d.get('email'), name: String(d.get('name') ?? '') || undefined, role: d.get('role') })
            reload()
          },
          { class: 'stack inline-form' },
        ),
      )
    : null
  clear(
    root,
    h('div', { class: 'page-head' }, h('h1', {}, 'Users and invitations')),
    h('p', { class: 'hint' }, 'People join by signing in through an invitation link. Make one on a project’s page: ', h('a', { href: '#/projects' }, 'Projects'), '.', isOrgAdmin() ? ' Or add them below before they first sign in.' : ''),
    table(['User', 'Email', 'Role', 'Projects', 'Limits', 'Last seen', 'Source'], rows, { empty: 'No users yet.' }),
    detail,
    preRegister,
  )
}
