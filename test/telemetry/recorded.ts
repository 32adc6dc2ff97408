/** Picking and sending recorded exchanges through a gateway, as the conformance entries map them. */
import type { ConformanceProvider } from '../conformance/providers'
import { listCassettes, loadCassette, type Interaction } from '../support/recordings'

export const isStream = (x: Interaction) => x.contentType.includes('event-stream') || x.contentType.includes('eventstream')
/** A model call (not count_tokens, embeddings or moderation). */
export const generative = (x: Interaction) => x.method === 'POST' && !/count_?tokens|countTokens|embed|moderations/i.test(x.path)

/** Recordings with temperature / top_p / top_k in their requests (few have any), tried first. */
const SAMPLING: Record<string, string[]> = {
  anthropic: ['test_anthropic_sampling_settings_reach_the_wire.yaml'],
  openai: ['test_openai_model_thinking_part.yaml'],
}

type J = Record<string, unknown>

/**
 * The request names a provider-side object an earlier exchange of its cassette created (a file
 * search store, a previous response, a file). Sent alone, that object was never created through
 * the gateway, so project isolation refuses it (README, "Provider-side objects"): not a pick.
 */
const namesStoredObject = (spec: ConformanceProvider, x: Interaction) => {
  if (/isolation = "none"/.test(spec.providerToml(''))) return false
  const body = typeof x.requestBody === 'string' ? x.requestBody : JSON.stringify(x.requestBody ?? null)
  return /"previous_response_id":\s*"|fileSearchStoreNames|file_search_store_names|"cachedContent"|"file_id"|generativelanguage\.googleapis\.com\/v1\w*\/files\//.test(body)
}
export type Picked = { name: string; cassette: Interaction[]; x: Interaction }

/** The first recorded JSON answer and the first recorded stream of this entry that are successful generations. */
export async function pickInteractions(spec: ConformanceProvider): Promise<Picked[]> {
  const picked: Picked[] = []
  let json = false
  let stream = false
  const names = spec.cassettes ?? listCassettes(spec.folder)
  // Recordings whose requests carry sampling parameters go first, so those attributes are checked too.
  const preferred = (SAMPLING[spec.folder] ?? []).filter((n) => names.includes(n))
  for (const name of [...preferred, ...names.filter((n) => !preferred.includes(n))]) {
    const c = await loadCassette(spec.folder, name)
    for (const x of c.interactions) {
      if (!spec.hosts.some((h) => x.host.includes(h)) || !(spec.include?.(x) ?? true) || x.status !== 200 || !generative(x) || namesStoredObject(spec, x)) continue
      if (isStream(x) ? stream : json) continue
      if (!isStream(x) && !(x.responseJson as J | undefined)?.usage && !(x.responseJson as J | undefined)?.usageMetadata) continue
      picked.push({ name, cassette: c.interactions, x })
      if (isStream(x)) stream = true
      else json = true
    }
    if (json && stream) break
  }
  return picked
}

/** The first recorded error answer (status >= 400) of this entry, if it has one. */
export async function pickError(spec: ConformanceProvider): Promise<Picked | undefined> {
  for (const name of spec.cassettes ?? listCassettes(spec.folder)) {
    const c = await loadCassette(spec.folder, name)
    const x = c.interactions.find((i) => spec.hosts.some((h) => i.host.includes(h)) && (spec.include?.(i) ?? true) && i.status >= 400)
    if (x) return { name, cassette: c.interactions, x }
  }
  return undefined
}

/** Sends one recorded request to the gateway as its client would; `swap` replaces a header value (another gateway key). */
export function sendRecorded(gatewayUrl: string, spec: ConformanceProvider, x: Interaction, swap?: { from: string; to: string }): Promise<Response> {
  const body = x.requestBody === undefined ? undefined : typeof x.requestBody === 'string' ? x.requestBody : JSON.stringify(x.requestBody)
  const headers: Record<string, string> = { ...spec.clientHeaders(x), ...(body ? { 'content-type': x.requestHeaders['content-type']?.[0] ?? 'application/json' } : {}) }
  if (swap) for (const [k, v] of Object.entries(headers)) headers[k] = v.replace(swap.from, swap.to)
  return fetch(gatewayUrl + spec.gatewayPath(x), { method: x.method, headers, body })
}
