/**
 * Serves the admin single-page app. Its files are embedded through the generated module
 * `ui-assets.generated.ts` (written by scripts/build-ui.ts; `with { type: 'file' }` imports,
 * so `bun build --compile` puts them in the binary). When the UI was not built, /admin says
 * so instead of failing.
 */
import { errorPage } from './pages'

type Assets = Record<string, string>
let loaded: Promise<Assets | undefined> | undefined

function assets(): Promise<Assets | undefined> {
  loaded ??= import('./ui-assets.generated').then(
    (m: { UI_ASSETS?: Assets }) => m.UI_ASSETS,
    () => {
      // Not built (yet): look again next time rather than remember the miss.
      loaded = undefined
      return undefined
    },
  )
  return loaded
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  woff2: 'font/woff2',
  json: 'application/json',
}

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

/** `rel` is the path under /admin, e.g. `/` or `/assets/index-abc.js`. */
export async function serveUi(rel: string): Promise<Response> {
  const a = await assets()
  if (!a) {
    return errorPage(
      'Admin UI not built',
      'This build of Tollgate has no admin UI assets. Run `bun scripts/build-ui.ts` (the build does it) and restart. The admin API works without it, at /admin/api/v1 (docs at /admin/api/docs).',
      503,
    )
  }
  const key = rel === '/' || rel === '' ? '/index.html' : rel
  const path = a[key]
  if (!path) return errorPage('Not found', 'There is no such page in the admin UI.', 404)
  const ext = key.split('.').pop() ?? ''
  const headers: Record<string, string> = {
    'content-type': TYPES[ext] ?? 'application/octet-stream',
    'x-content-type-options': 'nosniff',
    // Hashed asset names never change content; the page itself must always be fresh.
    'cache-control': key.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-store',
  }
  if (ext === 'html') {
    headers['content-security-policy'] = CSP
    headers['x-frame-options'] = 'DENY'
    headers['referrer-policy'] = 'same-origin'
  }
  return new Response(Bun.file(path), { headers })
}
