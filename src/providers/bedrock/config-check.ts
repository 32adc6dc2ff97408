/** Config cross-checks for a bedrock provider (ProviderApi.checkConfig, called from config/load.ts). */
import type { ProviderConfig } from '../../config/schema'
import type { ConfigProblem } from '../types'

/** Bedrock: a region, and a Bedrock API key or an access key pair; empty credentials disable it. */
export function checkBedrockProvider(p: ProviderConfig, i: number, problems: ConfigProblem[], warnings: string[]): void {
  const at = `providers[${i}]`
  if (!p.region) problems.push({ path: `${at}.region`, message: 'bedrock needs a region, e.g. "us-east-1"' })
  const pairDeclared = p.access_key_id !== undefined || p.secret_access_key !== undefined
  if (pairDeclared && (p.access_key_id === undefined || p.secret_access_key === undefined)) {
    problems.push({ path: at, message: 'SigV4 needs both access_key_id and secret_access_key' })
    return
  }
  if (!pairDeclared && p.api_key === undefined) {
    problems.push({ path: at, message: 'bedrock needs api_key (a Bedrock API key) or access_key_id + secret_access_key' })
    return
  }
  const hasKey = !!p.api_key
  const hasPair = !!p.access_key_id && !!p.secret_access_key
  if (hasKey && hasPair) problems.push({ path: at, message: 'set either api_key or access_key_id + secret_access_key, not both' })
  else if (!hasKey && !hasPair && p.enabled !== false) {
    p.enabled = false
    const empty = pairDeclared ? (p.access_key_id ? 'secret_access_key' : 'access_key_id') : 'api_key'
    warnings.push(`provider ${p.id} is disabled: ${at}.${empty} is empty`)
  }
}
