/** Finds the gateway key in a request and resolves it, or throws the right 400/401. */
import { AuthenticationError, InvalidRequestError } from '../errors'
import type { KeyStore } from './keystore'
import type { KeyRecord } from './principal'

/**
 * The key from `Authorization: Bearer`, `x-api-key` (Anthropic SDK, Claude Code) or
 * `x-goog-api-key` (Google SDK). The same key in several headers is fine (pydantic-ai's
 * Google client sends two); different keys are a client bug and get a 400.
 */
export function presentedKey(headers: Headers): string | undefined {
  let found: string | undefined
  const take = (v: string | null) => {
    if (!v) return
    if (found !== undefined && found !== v) {
      throw new InvalidRequestError('The request carries two different gateway keys; send one.', 'conflicting_keys')
    }
    found = v
  }
  const auth = headers.get('authorization')
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth)
    if (!m) throw new AuthenticationError('Authorization header must be "Bearer <gateway key>".')
    take(m[1]!.trim())
  }
  take(headers.get('x-api-key'))
  take(headers.get('x-goog-api-key'))
  return found
}

export async function authenticate(headers: Headers, keys: KeyStore): Promise<KeyRecord> {
  const secret = presentedKey(headers)
  if (!secret) throw new AuthenticationError('Missing gateway key: send it as "Authorization: Bearer <key>" or in x-api-key.')
  const found = await keys.lookup(secret)
  if (found.ok) return found.key
  if (found.reason === 'expired') throw new AuthenticationError('This gateway key has expired.', 'expired_api_key')
  throw new AuthenticationError()
}
