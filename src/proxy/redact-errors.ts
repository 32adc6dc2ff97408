/**
 * Upstream error bodies go through the redactor before a client sees them: a provider that
 * echoes its credential (`bad key Bearer sk-…`) must not hand it to a key holder. Redacted are
 * the secrets of the provider that answered (its api key, AWS secret access key and session
 * token, a Vertex service account's private key: everything configSecrets finds on it), the
 * credential this attempt sent (the OAuth access token the gateway minted for Vertex, a
 * Bedrock API key), in their JSON-escaped spellings too, and the redactor's known key shapes.
 * Only non-2xx bodies pass here; 2xx bodies stay byte for byte. A body with nothing to
 * redact is returned as the same bytes.
 */
import type { ProviderConfig } from '../config/schema'
import { configSecrets, Redactor } from '../telemetry/redact'

/** Outbound headers that carry this attempt's credential. */
const CREDENTIAL_HEADERS = ['authorization', 'x-api-key', 'x-goog-api-key', 'x-amz-security-token', 'api-key']

const utf8 = new TextDecoder('utf-8', { fatal: true })
const encoder = new TextEncoder()

export function redactErrorBody(body: Uint8Array, provider: ProviderConfig, outbound: Headers | undefined): Uint8Array {
  if (!body.byteLength) return body
  let text: string
  try {
    text = utf8.decode(body)
  } catch {
    // Not text (no provider sends a binary error body); nothing a client could read as a key.
    return body
  }
  const redacted = new Redactor(spellings(secretsOf(provider, outbound))).text(text)
  return redacted === text ? body : encoder.encode(redacted)
}

function secretsOf(provider: ProviderConfig, outbound: Headers | undefined): string[] {
  const out = configSecrets(provider)
  for (const name of CREDENTIAL_HEADERS) {
    const v = outbound?.get(name)
    if (!v) continue
    out.push(v)
    const token = /^(?:Bearer|Basic)\s+(.+)$/i.exec(v)?.[1]
    if (token) out.push(token)
  }
  return out
}

/** Each secret as it may appear in a JSON body: raw, JSON-escaped, and a PEM key's lines one by one. */
function spellings(secrets: string[]): string[] {
  const out: string[] = []
  for (const s of secrets) {
    out.push(s)
    const escaped = JSON.stringify(s).slice(1, -1)
    if (escaped !== s) out.push(escaped, escaped.replaceAll('/', '\\/'))
    if (s.includes('\n')) for (const line of s.split(/\r?\n/)) if (line.length >= 16 && !line.startsWith('-----')) out.push(line)
  }
  return out
}

/** An SSE event that reports an error: `event: error` (Anthropic), or a `data:` object with a top-level error (OpenAI, Google). */
const ERROR_EVENT = /^event:[ \t]*error[ \t]*$|^data:[ \t]*\{[ \t]*"(?:error"|type"[ \t]*:[ \t]*"error")/m
const ERROR_BYTES = Buffer.from('error')

/**
 * For a 2xx SSE stream: the chunk with its error events redacted, or the same chunk (nearly
 * always: one byte search per chunk). Events other than errors are never changed. An error
 * event split across two network chunks is redacted piece by piece, so a secret cut in two
 * there is missed (providers send an error event in one write).
 */
export function sseErrorScreen(provider: ProviderConfig, outbound: Headers | undefined): (chunk: Uint8Array) => Uint8Array {
  let redactor: Redactor | undefined
  return function screenSseChunk(chunk) {
    if (Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).indexOf(ERROR_BYTES) < 0) return chunk
    let text: string
    try {
      text = utf8.decode(chunk)
    } catch {
      return chunk
    }
    if (!ERROR_EVENT.test(text)) return chunk
    redactor ??= new Redactor(spellings(secretsOf(provider, outbound)))
    const r = redactor
    const out = text.replace(/[^]*?(?:\r?\n\r?\n|$)/g, (event) => (event && ERROR_EVENT.test(event) ? r.text(event) : event))
    return out === text ? chunk : encoder.encode(out)
  }
}
