/**
 * Errors of the admin API, rendered as `{"error":{"code","message"}}`. Out-of-reach objects
 * are `notFound`, exactly like objects that do not exist, so a probe learns nothing.
 */
export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }

  toResponse(): Response {
    return Response.json({ error: { code: this.code, message: this.message } }, { status: this.status, headers: { 'cache-control': 'no-store' } })
  }
}

export const notFound = (what = 'object') => new AdminError(404, 'not_found', `No such ${what}.`)
export const badRequest = (message: string, code = 'invalid_request') => new AdminError(400, code, message)
export const conflict = (message: string) => new AdminError(409, 'conflict', message)
/** For actions on an object the caller can see but may not change. */
export const forbidden = (message = 'Your role does not allow this.') => new AdminError(403, 'forbidden', message)
export const unauthenticated = () => new AdminError(401, 'unauthenticated', 'Sign in, or send an admin token as "Authorization: Bearer tga_…".')
export const readOnly = (what: string, id: string) =>
  new AdminError(409, 'from_config', `${what} "${id}" is declared in config.toml; change it there (the admin API cannot edit config entities).`)
