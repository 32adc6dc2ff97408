/**
 * The admin single-page app: hash routes, one module per page, everything through the admin
 * API. Pages that show live numbers poll every few seconds while they are open.
 */
import './style.css'
import 'uplot/dist/uPlot.min.css'
import { ApiError, api, get, setCsrf } from './api'
import { clear, h } from './dom'
import { state, administersAny, isOrgAdmin, type Session } from './state'
import { overviewPage } from './pages/overview'
import { projectsPage, projectPage } from './pages/projects'
import { providersPage } from './pages/providers'
import { usersPage } from './pages/users'
import { keysPage } from './pages/keys'
import { requestLogPage, requestDetailPage } from './pages/request-log'
import { auditPage } from './pages/audit'
import { settingsPage } from './pages/settings'

/** A page renders into `root` and may return a cleanup (timers). */
export type Page = (root: HTMLElement, params: string[]) => Promise<(() => void) | void> | (() => void) | void

const ROUTES: [RegExp, Page, string][] = [
  [/^\/$/, overviewPage, 'Overview'],
  [/^\/projects$/, projectsPage, 'Projects'],
  [/^\/projects\/([^/]+)$/, projectPage, 'Projects'],
  [/^\/providers$/, providersPage, 'Providers'],
  [/^\/users$/, usersPage, 'Users'],
  [/^\/keys$/, keysPage, 'Keys'],
  [/^\/requests$/, requestLogPage, 'Request log'],
  [/^\/requests\/([^/]+)$/, requestDetailPage, 'Request log'],
  [/^\/audit$/, auditPage, 'Audit log'],
  [/^\/settings$/, settingsPage, 'Settings'],
]

const app = document.getElementById('app')!
let cleanup: (() => void) | void

function nav(current: string): HTMLElement {
  const items: [string, string, boolean][] = [
    ['#/', 'Overview', true],
    ['#/projects', 'Projects', true],
    ['#/providers', 'Providers', true],
    ['#/users', 'Users', administersAny()],
    ['#/keys', 'Keys', true],
    ['#/requests', 'Request log', true],
    ['#/audit', 'Audit log', true],
    ['#/settings', 'Settings', isOrgAdmin()],
  ]
  return h(
    'nav',
    { 'aria-label': 'Main' },
    h(
      'ul',
      {},
      ...items.filter(([, , show]) => show).map(([href, label]) => h('li', {}, h('a', { href, 'aria-current': label === current ? 'page' : undefined }, label))),
    ),
  )
}

async function signOut(): Promise<void> {
  await api('DELETE', '/session').catch(() => {})
  location.hash = '#/'
  location.reload()
}

function shell(current: string): HTMLElement {
  const s = state.session!
  const who = s.user ? (s.user.email ?? s.user.id) : s.actor
  const main = h('main', { id: 'main', tabindex: '-1' })
  clear(
    app,
    h('a', { class: 'skip', href: '#main', onclick: (e: Event) => (e.preventDefault(), main.focus()) }, 'Skip to content'),
    h(
      'header',
      { class: 'top' },
      h('a', { class: 'brand', href: '#/' }, 'Tollgate'),
      nav(current),
      h('div', { class: 'me' }, h('span', { class: 'who', title: s.org_role === 'admin' ? 'organisation admin' : 'member' }, who, s.org_role === 'admin' ? ' · admin' : ''), h('button', { type: 'button', class: 'link', onclick: () => void signOut() }, 'Sign out')),
    ),
    main,
  )
  return main
}

function signInPage(): void {
  clear(
    app,
    h(
      'main',
      { class: 'signin' },
      h(
        'div',
        { class: 'card signin-card' },
        h('div', { class: 'brand big' }, 'Tollgate'),
        h('h1', {}, 'Sign in'),
        h('p', {}, 'Use your organisation’s single sign-on account.'),
        h('a', { class: 'button primary', href: '/admin/auth/login' }, 'Sign in with single sign-on'),
        h('p', { class: 'hint' }, 'First time here? The person who installed Tollgate runs ', h('code', {}, 'tollgate admin bootstrap'), ' for a one-time setup link.'),
      ),
    ),
  )
}

async function route(): Promise<void> {
  cleanup?.()
  cleanup = undefined
  // Roles and projects can change while the app is open: re-read them on every page.
  {
    try {
      state.session = await get<Session>('/session')
      setCsrf(state.session.csrf_token)
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return signInPage()
      clear(app, h('main', { class: 'signin' }, h('div', { class: 'card' }, h('h1', {}, 'Tollgate is unreachable'), h('p', {}, (e as Error).message))))
      return
    }
  }
  const path = location.hash.replace(/^#/, '') || '/'
  const match = ROUTES.map(([re, page, label]) => ({ m: re.exec(path), page, label })).find((x) => x.m)
  const main = shell(match?.label ?? '')
  if (!match) {
    clear(main, h('h1', {}, 'Not found'), h('p', {}, 'There is no such page. ', h('a', { href: '#/' }, 'Go to the overview.')))
    return
  }
  document.title = `${match.label} · Tollgate`
  try {
    cleanup = await match.page(main, match.m!.slice(1).map(decodeURIComponent))
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      state.session = undefined
      return signInPage()
    }
    clear(main, h('h1', {}, match.label), h('div', { class: 'form-error', role: 'alert' }, (e as Error).message))
  }
}

window.addEventListener('hashchange', () => void route())
void route()
