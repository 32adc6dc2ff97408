/** Headers a Bedrock request carries upstream, all of them covered by the SigV4 signature. */
import type { ProviderConfig } from '../../config/schema'

/**
 * Bedrock's own request headers (`x-amzn-bedrock-accept`, `-trace`, `-guardrailidentifier`,
 * `-guardrailversion`, `-performanceconfig-latency`, …) are InvokeModel parameters, so they
 * pass through; no other `x-amz*` header from the client does (its own signature among them).
 */
const PASS_PREFIX = 'x-amzn-bedrock-'

export function bedrockRequestHeaders(client: Headers, provider: ProviderConfig, contentType: string): Record<string, string> {
  const out: Record<string, string> = { 'content-type': contentType }
  for (const [name, value] of client) if (name.startsWith(PASS_PREFIX)) out[name] = value
  for (const [name, value] of Object.entries(provider.headers ?? {})) out[name.toLowerCase()] = value
  return out
}
