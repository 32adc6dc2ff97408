/** Settings: sign-in, the credential key, and admin tokens for automation (org admins). */
import { api, get } from '../api'
import { badge, clear, field, form, h, input, secretDialog, select, table } from '../dom'
import { ago, when } from '../format'

export async function settingsPage(root: HTMLElement) {
  const [s, t] = await Promise.all([
    get<{ version: string; public_url: string; oidc: { configured: boolean; issuer: string | null; client_id: string | null; allowed_domains: string[]; admin_emails: string[]; groups_claim: string | null; admin_groups: string[] }; pending_restart: string[]; secrets_key: { usable: boolean; problem: string | null }; session_hours: number; invitation_days: number; counts: Record<string, number> }>('/settings'),
    get<{ tokens: { id: string; name: string | null; role: string; project: string | null; user: string | null; created_at: number; last_used_at: number | null; revoked_at: number | null }[] }>('/admin-tokens'),
  ])
  const reload = () => void settingsPage(root)
  clear(
    root,
    h('div', { class: 'page-head' }, h('h1', {}, 'Settings')),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Deployment'),
      h(
        'dl',
        { class: 'detail' },
        h('dt', {}, 'Version'),
        h('dd', {}, s.version),
        h('dt', {}, 'Public URL'),
        h('dd', {}, s.public_url),
        h('dt', {}, 'Single sign-on'),
        h('dd', {}, s.oidc.configured ? `${s.oidc.issuer} · domains: ${s.oidc.allowed_domains.join(', ') || 'any (verified emails only)'}` : 'Not configured: add [auth.oidc] to config.toml to let people sign in and accept invitations.'),
        ...(s.oidc.configured
          ? [
              h('dt', {}, 'Org admins from sign-in'),
              h('dd', {}, [s.oidc.admin_emails.length ? `emails: ${s.oidc.admin_emails.join(', ')}` : '', s.oidc.groups_claim && s.oidc.admin_groups.length ? `groups (${s.oidc.groups_claim}): ${s.oidc.admin_groups.join(', ')}` : ''].filter(Boolean).join(' · ') || 'none'),
            ]
          : []),
        h('dt', {}, 'In force'),
        h('dd', {}, 'Sign-in settings as shown apply from the next sign-in after a reload (SIGHUP).', ...(s.pending_restart.length ? [' Waiting for a restart: ', s.pending_restart.join('; ')] : [])),
        h('dt', {}, 'Credential encryption'),
        h('dd', {}, s.secrets_key.usable ? badge('key configured', 'ok') : h('span', {}, badge('unavailable', 'bad'), ' ', s.secrets_key.problem ?? '')),
        h('dt', {}, 'Sessions last'),
        h('dd', {}, `${s.session_hours} hours`),
        h('dt', {}, 'Invitations last'),
        h('dd', {}, `${s.invitation_days} days`),
      ),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Admin tokens'),
      h('p', { class: 'hint' }, 'For automation against the admin API: send as "Authorization: Bearer …". API docs: ', h('a', { href: '/admin/api/docs' }, '/admin/api/docs'), '.'),
      table(
        ['Token', 'Role', 'Scope', 'Created', 'Last used', ''],
        t.tokens.map((x) => [x.name ?? x.id, x.role, x.project ?? x.user ?? 'organisation', when(x.created_at), ago(x.last_used_at), x.revoked_at ? badge('revoked', 'muted') : h('button', { type: 'button', class: 'small danger', onclick: () => void api('DELETE', `/admin-tokens/${x.id}`).then(reload) }, 'Revoke')]),
        { empty: 'No admin tokens.' },
      ),
      form(
        [
          h(
            'div',
            { class: 'grid3' },
            field('Name', input('name', { required: true, maxlength: 200, placeholder: 'terraform' })),
            field('Role', select('role', [['org_admin', 'Organisation admin'], ['project_admin', 'Project admin'], ['member', 'Member (acts as a user)']])),
            field('Project or user (for scoped roles)', input('scope', { maxlength: 64 })),
          ),
        ],
        'Create token',
        async (d) => {
          const role = String(d.get('role'))
          const scope = String(d.get('scope') ?? '') || undefined
          const r = await api<{ secret: string }>('POST', '/admin-tokens', { name: d.get('name'), role, project: role === 'project_admin' ? scope : undefined, user: role === 'member' ? scope : undefined })
          secretDialog('Admin token', r.secret, 'Copy it now: it is shown only once.')
          reload()
        },
        { class: 'stack inline-form' },
      ),
    ),
  )
}
