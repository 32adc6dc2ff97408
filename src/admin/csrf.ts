/**
 * CSRF protection for cookie-authenticated, state-changing requests: the UI echoes its
 * session's CSRF token in `x-csrf-token` (a page on another site cannot read it), and a
 * cross-site `Origin` is refused outright. Admin-token requests carry no ambient credential
 * and need neither.
 */
import type { Principal } from './authz'
import { safeEqual } from './crypto'
import { AdminError } from './errors'

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

export function checkCsrf(request: Request, p: Principal, publicOrigin: string): void {
  if (SAFE.has(request.method) || p.kind !== 'session') return
  const origin = request.headers.get('origin')
  if (origin && origin !== new URL(request.url).origin && origin !== publicOrigin) throw csrfError()
  const sent = request.headers.get('x-csrf-token')
  if (!sent || !p.csrf || !safeEqual(sent, p.csrf)) throw csrfError()
}

const csrfError = () => new AdminError(403, 'csrf_failed', 'Missing or wrong CSRF token; reload the page.')
