/** Config cross-checks for a google-vertex provider (ProviderApi.checkConfig, called from config/load.ts). */
import type { ProviderConfig } from '../../config/schema'
import type { ConfigProblem as Problem } from '../types'
import { parseServiceAccount } from './credentials'

const PROJECT = /^[A-Za-z0-9._:-]+$/
const REGION = /^[a-z0-9-]+$/

/**
 * Credentials must be a service-account JSON and a project must be known. Empty credentials (an
 * unset `${VAR:-}`) disable the provider with a warning, as an empty api_key does.
 */
export function checkVertexProvider(p: ProviderConfig, i: number, problems: Problem[], warnings: string[]): void {
  const at = `providers[${i}]`
  if (p.region !== undefined && !REGION.test(p.region)) problems.push({ path: `${at}.region`, message: `not a Google Cloud region: "${p.region}"` })
  if (p.enabled === false) return
  if (!p.credentials) {
    p.enabled = false
    warnings.push(`provider ${p.id} is disabled: ${at}.credentials is empty`)
    return
  }
  const parsed = parseServiceAccount(p.credentials)
  if (!parsed.ok) return void problems.push({ path: `${at}.credentials`, message: parsed.message })
  if (p.project) return
  const fromAccount = parsed.account.project_id
  if (!fromAccount) problems.push({ path: `${at}.project`, message: 'required: the service account has no project_id' })
  else if (!PROJECT.test(fromAccount)) problems.push({ path: `${at}.credentials`, message: 'project_id is not a valid project id' })
}
