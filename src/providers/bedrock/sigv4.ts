/**
 * Bedrock credentials on the upstream request: a Bedrock API key as `Authorization: Bearer`,
 * or an AWS SigV4 signature (aws4fetch's AwsV4Signer, service `bedrock`).
 *
 * SigV4 signs the path exactly as it goes on the wire: the URL carries the model id encoded
 * once (`nova-micro-v1%3A0`), and the canonical URI encodes it again (`%253A`), as AWS does for
 * every service but S3. The signer also covers every header returned here (content-type,
 * x-amz-date, the session token, pass-through `x-amzn-bedrock-*`), so the core must not change
 * them; it only adds unsigned ones (user-agent, accept, traceparent).
 */
import { AwsV4Signer } from 'aws4fetch'
import type { ProviderConfig } from '../../config/schema'

export const SIGNING_SERVICE = 'bedrock'

/** Derived signing keys, per secret, day, region and service (a handful at most). */
const signingKeys = new Map<string, ArrayBuffer>()

export async function withCredential(
  provider: ProviderConfig,
  method: string,
  url: string,
  headers: Record<string, string>,
  body: Uint8Array | string | null,
): Promise<Record<string, string>> {
  if (provider.api_key) return { ...headers, authorization: `Bearer ${provider.api_key}` }
  if (signingKeys.size > 32) signingKeys.clear()
  const signer = new AwsV4Signer({
    method,
    url,
    headers,
    body: body ?? '',
    accessKeyId: provider.access_key_id ?? '',
    secretAccessKey: provider.secret_access_key ?? '',
    sessionToken: provider.session_token || undefined,
    service: SIGNING_SERVICE,
    region: provider.region ?? '',
    cache: signingKeys,
  })
  const signed = await signer.sign()
  return Object.fromEntries(signed.headers)
}
