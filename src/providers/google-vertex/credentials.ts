/** The service-account JSON a google-vertex provider carries in `credentials`. */

export interface ServiceAccount {
  client_email: string
  private_key: string
  private_key_id?: string
  project_id?: string
  token_uri?: string
}

export type ParsedCredentials = { ok: true; account: ServiceAccount } | { ok: false; message: string }

/** Parses and checks the JSON; messages never quote it, since it holds a private key. */
export function parseServiceAccount(text: string): ParsedCredentials {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return { ok: false, message: 'not valid JSON (expected a service-account key file)' }
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return { ok: false, message: 'expected a service-account JSON object' }
  const o = v as Record<string, unknown>
  if (o.type !== undefined && o.type !== 'service_account') {
    return { ok: false, message: `only service-account keys are supported, got type "${String(o.type)}"` }
  }
  if (typeof o.client_email !== 'string' || !o.client_email) return { ok: false, message: 'client_email is missing' }
  if (typeof o.private_key !== 'string' || !o.private_key.includes('PRIVATE KEY')) return { ok: false, message: 'private_key is missing or not a PEM key' }
  const opt = (k: string) => (typeof o[k] === 'string' && o[k] ? (o[k] as string) : undefined)
  return {
    ok: true,
    account: {
      client_email: o.client_email,
      private_key: o.private_key,
      private_key_id: opt('private_key_id'),
      project_id: opt('project_id'),
      token_uri: opt('token_uri'),
    },
  }
}
