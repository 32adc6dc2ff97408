/** The audit log: who changed what, when. */
import { get } from '../api'
import { clear, h, table } from '../dom'
import { when } from '../format'

export async function auditPage(root: HTMLElement) {
  const { entries } = await get<{ entries: { ts: number; actor: string; action: string; object_type: string; object_id: string | null; project: string | null; detail: unknown }[] }>('/audit?limit=200')
  clear(
    root,
    h('div', { class: 'page-head' }, h('h1', {}, 'Audit log')),
    table(
      ['Time', 'Who', 'Action', 'Object', 'Project', 'Details'],
      entries.map((e) => [when(e.ts), e.actor, h('code', {}, e.action), `${e.object_type} ${e.object_id ?? ''}`, e.project ?? '—', h('code', { class: 'detail-json' }, e.detail ? JSON.stringify(e.detail) : '')]),
      { empty: 'Nothing has changed yet.' },
    ),
  )
}
