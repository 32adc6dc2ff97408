/**
 * Extra upstream headers an org admin may set on an admin-made provider. Refused: headers that
 * steer routing or framing, carry credentials (the gateway adds the provider's own), or tell a
 * metadata service the request is trusted.
 */
const REFUSED = new Set([
  'host',
  'authorization',
  'cookie',
  'connection',
  'transfer-encoding',
  'content-length',
  'forwarded',
  'te',
  'trailer',
  'upgrade',
  'keep-alive',
  'expect',
  // The providers' own credential headers (OpenAI/Groq/Vertex/Bedrock: authorization above).
  'x-api-key',
  'x-goog-api-key',
  'api-key',
  'x-amz-security-token',
  'x-amz-date',
  'x-amz-content-sha256',
  // Cloud metadata services trust requests carrying these.
  'metadata-flavor',
  'metadata',
  'x-aws-ec2-metadata-token',
])

/** Why a header name is refused, or undefined. */
export function refusedHeader(name: string): string | undefined {
  const n = name.toLowerCase()
  if (REFUSED.has(n) || n.startsWith('proxy-') || n.startsWith('x-forwarded-') || n.startsWith('x-real-ip'))
    return `headers.${name}: this header cannot be set on a provider (it carries routing, framing or credentials)`
  return undefined
}
