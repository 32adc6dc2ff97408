/**
 * The one redactor for logs, spans, metric labels and error messages. It removes every
 * secret the config holds (provider keys, gateway keys, tokens, header values) and the
 * known key shapes, wherever they appear in a string.
 */

export const REDACTED = '[REDACTED]'

/** Values shorter than this are not treated as secrets (they would blank out ordinary words). */
const MIN_SECRET_LENGTH = 8

/**
 * Key shapes, each a named group so the replacement can keep a harmless prefix:
 * OpenAI/Anthropic `sk-…`, Google `AIza…`, Groq `gsk_…`, AWS access key ids, Bearer tokens,
 * Tollgate keys `tg_<id>_<secret>` and admin tokens `tga_<id>_<secret>` (the id is public and
 * kept), and the one-time secrets the admin API issues (setup links, invitations, sessions).
 */
const SHAPES = [
  String.raw`\bsk-[A-Za-z0-9][A-Za-z0-9_-]{15,}`,
  String.raw`\bAIza[0-9A-Za-z_-]{30,}`,
  String.raw`\bgsk_[A-Za-z0-9_]{16,}`,
  String.raw`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`,
  // A token has a digit or punctuation; "bearer certificates" in prose is not one.
  String.raw`\b(?<bearer>[Bb]earer\s+)(?=[A-Za-z]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{8,}`,
  String.raw`\b(?<tg>tg_[a-z0-9]{6,32}_)[A-Za-z0-9_-]{16,}`,
  // Admin tokens `tga_<id>_<secret>` (id kept, as for gateway keys).
  String.raw`\b(?<tga>tga_[a-z0-9]{12}_)[A-Za-z0-9_-]{16,}`,
  // Setup links `tgs_…`, invitations `tgi_…` and browser session ids `tgss_…`: the whole value is the secret.
  String.raw`\b(?:tgs|tgi|tgss)_[A-Za-z0-9_-]{16,}`,
]

/** Headers whose values are credentials, whatever they hold. */
const AUTH_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'x-goog-api-key',
  'api-key',
  'cookie',
  'set-cookie',
  'x-amz-security-token',
])

/** Config keys whose string values are secrets (anything under `headers` is too). */
const SECRET_KEY = /(^|_)(key|token|secret|password|credentials?)$/i
const NOT_SECRET = new Set(['key_sha256', 'id'])

export class Redactor {
  private re!: RegExp

  constructor(secrets: Iterable<string> = []) {
    this.setSecrets(secrets)
  }

  /** Bumped by every setSecrets(): caches of redacted text compare it to know they are stale. */
  generation = 0

  /** Replaces the configured secrets (on start, and when the config changes). */
  setSecrets(secrets: Iterable<string>): void {
    this.generation++
    const unique = new Set<string>()
    for (const s of secrets) if (typeof s === 'string' && s.length >= MIN_SECRET_LENGTH) unique.add(s)
    // Longest first, so a secret that contains another is removed whole.
    const literal = [...unique].sort((a, b) => b.length - a.length).map(escapeRegExp)
    this.re = new RegExp([...literal, ...SHAPES].join('|'), 'g')
  }

  /** The string with every secret replaced; the same string when there was none. */
  text = (s: string): string => {
    if (!s) return s
    this.re.lastIndex = 0
    if (!this.re.test(s)) return s
    return s.replace(this.re, (...args) => {
      const groups = args[args.length - 1] as Record<string, string | undefined> | undefined
      return (groups?.bearer ?? groups?.tg ?? groups?.tga ?? '') + REDACTED
    })
  }

  /** A JSON-like value with every string redacted (objects and arrays are copied). */
  value(v: unknown): unknown {
    if (typeof v === 'string') return this.text(v)
    if (Array.isArray(v)) return v.map((x) => this.value(x))
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(v)) out[k] = this.value(x)
      return out
    }
    return v
  }

  /** Headers as a plain object, credentials blanked and the rest redacted. */
  headers(h: Headers | Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {}
    const entries = h instanceof Headers ? h.entries() : Object.entries(h)
    for (const [name, value] of entries) out[name] = AUTH_HEADERS.has(name.toLowerCase()) ? REDACTED : this.text(value)
    return out
  }
}

/**
 * Every secret value in a config tree: strings under secret-looking keys or inside a
 * `headers` table, and the string fields of a JSON credential (a service account's private key).
 */
export function configSecrets(config: unknown): string[] {
  const out: string[] = []
  const walk = (v: unknown, key: string, inHeaders: boolean) => {
    if (typeof v === 'string') {
      if (!inHeaders && (NOT_SECRET.has(key) || !SECRET_KEY.test(key))) return
      out.push(v)
      const parsed = parseJsonObject(v)
      if (parsed) for (const [k, x] of Object.entries(parsed)) if (typeof x === 'string' && SECRET_KEY.test(k)) out.push(x)
      return
    }
    if (Array.isArray(v)) return v.forEach((x) => walk(x, key, inHeaders))
    if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k, inHeaders || k === 'headers')
  }
  walk(config, '', false)
  return out
}

function parseJsonObject(s: string): Record<string, unknown> | undefined {
  if (!s.startsWith('{')) return undefined
  try {
    const v = JSON.parse(s)
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined
  } catch {
    return undefined
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
