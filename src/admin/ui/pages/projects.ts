/** Projects: the list (org admins create), and one project's members, invitations and limits. */
import { api, get } from '../api'
import { badge, clear, field, form, h, input, secretDialog, select, table } from '../dom'
import { when } from '../format'
import { adminOf, isOrgAdmin, state } from '../state'
import { limitsForm, limitsText, type LimitsNanos } from './limits-form'

interface Project {
  id: string
  name: string | null
  providers: string[] | null
  limits: LimitsNanos
  source: 'config' | 'db'
  your_role: 'admin' | 'member'
  /** Why its id is a reserved name (made before the rule). */
  reserved_name_conflict: string | null
}

export async function projectsPage(root: HTMLElement) {
  const { projects } = await get<{ projects: Project[] }>('/projects')
  const create = isOrgAdmin()
    ? h(
        'section',
        { class: 'card' },
        h('h2', {}, 'New project'),
        form(
          [
            field('Id', input('id', { required: true, pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]*', maxlength: 64, placeholder: 'e.g. search-team' }), 'Letters, digits, dot, dash, underscore. Used in keys and logs; cannot change.'),
            field('Name', input('name', { maxlength: 200, placeholder: 'Search team' })),
          ],
          'Create project',
          async (d) => {
            const p = await api<Project>('POST', '/projects', { id: d.get('id'), name: String(d.get('name') ?? '') || undefined })
            location.hash = `#/projects/${encodeURIComponent(p.id)}`
          },
          { class: 'stack inline-form' },
        ),
      )
    : null
  clear(
    root,
    h('div', { class: 'page-head' }, h('h1', {}, 'Projects')),
    table(
      ['Project', 'Name', 'Your role', 'Limits', 'Source'],
      projects.map((p) => [
        h('span', {}, h('a', { href: `#/projects/${encodeURIComponent(p.id)}` }, p.id), p.reserved_name_conflict ? [' ', h('span', { class: 'badge warn', title: p.reserved_name_conflict }, 'reserved id')] : null),
        p.name ?? '—', p.your_role, limitsText(p.limits), p.source === 'config' ? badge('from config', 'muted') : badge('UI')]),
      { empty: isOrgAdmin() ? 'No projects yet — create the first one below.' : 'You are not in any project yet. Ask a project admin for an invitation.' },
    ),
    create,
  )
}

export async function projectPage(root: HTMLElement, [id]: string[]) {
  const p = await get<Project>(`/projects/${encodeURIComponent(id!)}`)
  const admin = adminOf(p.id)
  const sections: Node[] = []
  const limits = h('section', { class: 'card' }, h('h2', {}, 'Spend limits'), h('p', {}, limitsText(p.limits)))
  if (isOrgAdmin() && p.source === 'db') limits.append(limitsForm('project', p.id, p.limits, () => void projectPage(root, [p.id])))
  else if (p.source === 'config') limits.append(h('p', { class: 'hint' }, 'Declared in config.toml; change it there.'))
  sections.push(limits)
  if (admin) {
    sections.push(await membersSection(p, () => void projectPage(root, [p.id])))
    sections.push(await invitationsSection(p, () => void projectPage(root, [p.id])))
  }
  clear(
    root,
    h('div', { class: 'page-head' }, h('h1', {}, `Project ${p.id}`, ' ', p.source === 'config' ? badge('from config', 'muted') : null), h('a', { href: '#/projects' }, '← All projects')),
    h('p', {}, p.name ?? '', p.providers ? ` · Providers: ${p.providers.join(', ')}` : ' · Reaches every provider it can see'),
    ...sections,
  )
}

async function membersSection(p: Project, reload: () => void): Promise<HTMLElement> {
  const { members } = await get<{ members: { user: string; email: string | null; role: 'admin' | 'member'; source: string }[] }>(`/projects/${encodeURIComponent(p.id)}/members`)
  const rows = members.map((m) => {
    const role = select('role', [['member', 'member'], ['admin', 'admin']], { 'aria-label': `Role of ${m.user}`, disabled: m.source === 'config' || m.user === state.session?.user?.id })
    role.value = m.role
    role.addEventListener('change', () => void api('PATCH', `/projects/${encodeURIComponent(p.id)}/members/${encodeURIComponent(m.user)}`, { role: role.value }).then(reload, (e) => alert((e as Error).message)))
    const remove =
      m.source === 'db'
        ? h('button', { type: 'button', class: 'danger small', onclick: () => confirm(`Remove ${m.user} from ${p.id}? Their keys in this project are revoked.`) && void api('DELETE', `/projects/${encodeURIComponent(p.id)}/members/${encodeURIComponent(m.user)}`).then(reload, (e) => alert((e as Error).message)) }, 'Remove')
        : badge('from config', 'muted')
    return [h('span', {}, m.user), m.email ?? '—', role, remove]
  })
  return h('section', { class: 'card' }, h('h2', {}, 'Members'), table(['User', 'Email', 'Role', ''], rows, { empty: 'No members yet — invite someone below.' }))
}

async function invitationsSection(p: Project, reload: () => void): Promise<HTMLElement> {
  const { invitations } = await get<{ invitations: { id: string; role: string; email: string | null; status: string; expires_at: number; redeemed_by: string | null }[] }>(`/projects/${encodeURIComponent(p.id)}/invitations`)
  const make = form(
    [
      h(
        'div',
        { class: 'grid3' },
        field('Role', select('role', [['member', 'member'], ['admin', 'project admin']])),
        field('Only for this email (optional)', input('email', { type: 'email', maxlength: 320, placeholder: 'name@example.com' })),
        field('Expires in (days)', input('days', { type: 'number', min: '0.01', max: '90', step: 'any', value: '7', required: true })),
      ),
    ],
    'Create invitation link',
    async (d) => {
      const r = await api<{ url: string }>('POST', `/projects/${encodeURIComponent(p.id)}/invitations`, {
        role: d.get('role'),
        email: String(d.get('email') ?? '') || undefined,
        expires_in_days: Number(d.get('days')),
      })
      secretDialog('Invitation link', r.url, 'Send this link to the person you invite. It works once, and is shown only now.')
      reload()
    },
    { class: 'stack inline-form' },
  )
  const rows = invitations.map((i) => [
    i.role,
    i.email ?? 'anyone',
    badge(i.status, i.status === 'pending' ? 'ok' : 'muted'),
    i.redeemed_by ?? '—',
    when(i.expires_at),
    i.status === 'pending' ? h('button', { type: 'button', class: 'small', onclick: () => void api('DELETE', `/invitations/${i.id}`).then(reload) }, 'Revoke') : '',
  ])
  return h('section', { class: 'card' }, h('h2', {}, 'Invitations'), table(['Role', 'For', 'Status', 'Redeemed by', 'Expires', ''], rows, { empty: 'No invitations yet.' }), make)
}
