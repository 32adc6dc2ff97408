/**
 * One access-token source per configured provider, made on first use from its service account.
 * Keyed by the provider's config object, so a reloaded config starts fresh and an old one is freed.
 */
import type { ProviderConfig } from '../../config/schema'
import { ProviderUnavailableError } from '../../errors'
import { parseServiceAccount, type ServiceAccount } from './credentials'
import { AccessTokenSource, GOOGLE_TOKEN_URL } from './token'

interface VertexAuth {
  account: ServiceAccount
  tokens: AccessTokenSource
}

const sources = new WeakMap<ProviderConfig, VertexAuth>()

export function vertexAuth(provider: ProviderConfig): VertexAuth {
  let auth = sources.get(provider)
  if (!auth) {
    // Config loading already rejected bad credentials; this guards providers built in code.
    const parsed = parseServiceAccount(provider.credentials ?? '')
    if (!parsed.ok) throw new ProviderUnavailableError(`Provider "${provider.id}" has unusable credentials: ${parsed.message}.`, 'provider_misconfigured')
    const tokenUrl = provider.token_url ?? parsed.account.token_uri ?? GOOGLE_TOKEN_URL
    auth = { account: parsed.account, tokens: new AccessTokenSource(parsed.account, tokenUrl, { label: provider.id }) }
    sources.set(provider, auth)
  }
  return auth
}

/** The `Authorization` header value for one request to this provider. */
export async function vertexAuthorization(provider: ProviderConfig): Promise<string> {
  return `Bearer ${await vertexAuth(provider).tokens.get()}`
}
