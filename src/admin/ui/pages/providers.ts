/** Providers and their credentials: add (BYOK), test connection, switch off, delete. */
import { api, get } from '../api'
import { badge, clear, field, form, h, input, select, table } from '../dom'
import { administersAny, isOrgAdmin, state } from '../state'

interface Provider {
  id: string
  api: string
  base_url: string | null
  project: string | null
  enabled: boolean
  has_key: boolean
  key_last4: string | null
  source: 'config' | 'db'
  /** Why its id is a reserved name (made before the rule): it is not routed. */
  reserved_name_conflict: string | null
}

const APIS: [string, string][] = [
  ['openai', 'OpenAI'],
  ['anthropic', 'Anthropic'],
  ['groq', 'Groq'],
]

export async function providersPage(root: HTMLElement) {
  const { providers } = await get<{ providers: Provider[] }>('/providers')
  const adminProjects = (state.session?.projects ?? []).filter((p) => p.role === 'admin').map((p) => p.id)
  const reload = () => void providersPage(root)
  const canManage = (p: Provider) => p.source === 'db' && (p.project ? isOrgAdmin() || adminProjects.includes(p.project) : isOrgAdmin())
  const status = (p: Provider) => h('span', { class: 'test-result', 'aria-live': 'polite', id: `test-${p.id}` })
  const rows = providers.map((p) => {
    const result = status(p)
    const actions = canManage(p)
      ? h(
          'div',
          { class: 'row-actions' },
          h(
            'button',
            {
              type: 'button',
              class: 'small',
              onclick: async () => {
                result.textContent = 'Testing…'
                try {
                  const r = await api<{ ok: boolean; message: string }>('POST', `/providers/${encodeURIComponent(p.id)}/test`)
                  result.textContent = r.message
                  result.className = `test-result ${r.ok ? 'ok' : 'bad'}`
                } catch (e) {
                  result.textContent = (e as Error).message
                }
              },
            },
            'Test connection',
          ),
          h('button', { type: 'button', class: 'small', onclick: () => void api('PATCH', `/providers/${encodeURIComponent(p.id)}`, { enabled: !p.enabled }).then(reload) }, p.enabled ? 'Switch off' : 'Switch on'),
          h('button', { type: 'button', class: 'small danger', onclick: () => confirm(`Delete provider ${p.id} and its stored credential?`) && void api('DELETE', `/providers/${encodeURIComponent(p.id)}`).then(reload) }, 'Delete'),
          result,
        )
      : p.source === 'config'
        ? badge('from config', 'muted')
        : ''
    return [
      p.reserved_name_conflict
        ? h('span', {}, h('strong', {}, p.id), ' ', h('span', { class: 'badge warn', title: `${p.reserved_name_conflict}. It is not routed: add it again under another id and delete this one.` }, 'reserved id, not routed'))
        : h('strong', {}, p.id),
      p.api,
      p.project ?? 'organisation',
      p.has_key ? h('code', {}, `••••${p.key_last4 ?? ''}`) : '—',
      p.enabled ? badge('on', 'ok') : badge('off', 'muted'),
      actions,
    ]
  })
  const ownerOptions: [string, string][] = [...(isOrgAdmin() ? [['', 'Whole organisation'] as [string, string]] : []), ...adminProjects.map((id): [string, string] => [id, `Project ${id} only`])]
  const add =
    administersAny() && ownerOptions.length
      ? h(
          'section',
          { class: 'card' },
          h('h2', {}, 'Add a provider'),
          h('p', { class: 'hint' }, 'The key is encrypted before it is stored and never shown again; only its last four characters are.'),
          form(
            [
              h(
                'div',
                { class: 'grid3' },
                field('Id', input('id', { required: true, pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]*', maxlength: 64, placeholder: 'openai-prod' }), 'The route name: clients call /<id>/…'),
                field('API', select('api', APIS)),
                field('Available to', select('project', ownerOptions)),
              ),
              field('API key', input('api_key', { type: 'password', required: true, autocomplete: 'off', maxlength: 4096, placeholder: 'sk-…' })),
              field('Base URL (optional)', input('base_url', { type: 'url', pattern: 'https?://.+', placeholder: 'https://api.openai.com/v1' }), 'Leave empty for the provider’s own endpoint.'),
            ],
            'Save provider',
            async (d) => {
              await api('POST', '/providers', {
                id: d.get('id'),
                api: d.get('api'),
                api_key: d.get('api_key'),
                base_url: String(d.get('base_url') ?? '') || undefined,
                project: String(d.get('project') ?? '') || undefined,
              })
              reload()
            },
          ),
        )
      : null
  clear(
    root,
    h('div', { class: 'page-head' }, h('h1', {}, 'Providers')),
    table(['Provider', 'API', 'Owner', 'Key', 'Status', ''], rows, { empty: administersAny() ? 'No providers yet — add your OpenAI key below.' : 'No providers are available to your projects yet. Ask a project admin to add one.' }),
    add,
  )
}
