/**
 * Secrets of the admin surface. Provider credentials are sealed with AES-256-GCM (WebCrypto);
 * the AES key is derived with HKDF-SHA256 from `[secrets] key`, so any long random string
 * works as the key-encryption key. The row id is bound as additional data, so a ciphertext
 * copied onto another provider row does not decrypt. Tokens handed to people (sessions,
 * invitations, setup links, admin tokens) are random and stored only as SHA-256 digests.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

const VERSION = 'v1'
/** Shorter keys are refused: they would be guessable offline from a stolen database. */
export const MIN_SECRET_KEY_LENGTH = 32

export class SecretBox {
  private constructor(private readonly key: CryptoKey) {}

  static async fromSecret(secret: string): Promise<SecretBox> {
    const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), 'HKDF', false, ['deriveKey'])
    const key = await crypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt: new TextEncoder().encode('tollgate/provider-credentials'), info: new Uint8Array() },
      material,
      { name: 'AES-GCM', length: 256 },
      false,
      ['encrypt', 'decrypt'],
    )
    return new SecretBox(key)
  }

  async seal(plaintext: string, boundTo: string): Promise<string> {
    const iv = crypto.getRandomValues(new Uint8Array(12))
    const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(boundTo) }, this.key, new TextEncoder().encode(plaintext))
    return `${VERSION}:${Buffer.from(iv).toString('base64url')}:${Buffer.from(ct).toString('base64url')}`
  }

  /** Throws when the key is wrong or the ciphertext was tampered with or moved. */
  async open(sealed: string, boundTo: string): Promise<string> {
    const [v, iv, ct] = sealed.split(':')
    if (v !== VERSION || !iv || !ct) throw new Error('unknown ciphertext format')
    const pt = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: Buffer.from(iv, 'base64url'), additionalData: new TextEncoder().encode(boundTo) },
      this.key,
      Buffer.from(ct, 'base64url'),
    )
    return new TextDecoder().decode(pt)
  }
}

/** Why `[secrets] key` cannot be used, or undefined when it can. */
export function secretKeyProblem(key: string | undefined): string | undefined {
  if (!key) return 'no key-encryption key is configured: set [secrets] key = "${TOLLGATE_SECRET_KEY}" (e.g. from `openssl rand -base64 32`)'
  if (key.length < MIN_SECRET_KEY_LENGTH) return `[secrets] key is too short (${key.length} characters; at least ${MIN_SECRET_KEY_LENGTH})`
  return undefined
}

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex')
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url')
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'
export function randomId(n = 12): string {
  let id = ''
  for (const b of randomBytes(n)) id += ID_ALPHABET[b % ID_ALPHABET.length]
  return id
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** The last four characters, for recognising a credential without revealing it. */
export function last4(secret: string): string {
  return secret.length <= 8 ? '' : secret.slice(-4)
}
