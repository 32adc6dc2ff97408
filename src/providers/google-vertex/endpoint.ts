/** Where a google-vertex provider's requests go: its project, region and Google endpoint. */
import type { ProviderConfig } from '../../config/schema'
import { ProviderUnavailableError } from '../../errors'
import { vertexAuth } from './auth'

/** The project requests go to: configured, or the service account's own. */
export function vertexProject(provider: ProviderConfig): string {
  const project = provider.project ?? vertexAuth(provider).account.project_id
  if (!project) throw new ProviderUnavailableError(`Provider "${provider.id}" has no project: set project in its configuration.`, 'provider_misconfigured')
  return project
}

export function vertexRegion(provider: ProviderConfig): string {
  return provider.region ?? 'global'
}

/** Google's endpoint for a region: the global one, or `{region}-aiplatform`. */
export function vertexBaseUrl(provider: ProviderConfig): string {
  if (provider.base_url) return provider.base_url
  const region = vertexRegion(provider)
  return region === 'global' ? 'https://aiplatform.googleapis.com' : `https://${region}-aiplatform.googleapis.com`
}
