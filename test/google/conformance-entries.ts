/**
 * The `google` recordings in the conformance suite, as two providers split by host: the Gemini API
 * (generativelanguage, `/v1beta/models/…` → `/gemini/…`) and Vertex AI (aiplatform,
 * `/v1beta1/projects/P/locations/L/publishers/google/models/…` → `/google-vertex/…`).
 */
import { expect } from 'bun:test'
import { CANARY } from '../support/gateway'
import type { Interaction } from '../support/recordings'
import { startOAuthServer, type OAuthServer } from '../support/oauth-server'
import type { ConformanceProvider } from '../conformance/providers'
import { GEMINI_KEY, SA_ENV, geminiToml, vertexToml } from './support'

export const geminiConformance: ConformanceProvider = {
  name: 'google (Gemini API)',
  folder: 'google',
  hosts: ['generativelanguage.googleapis.com'],
  // Resumable uploads continue at a Google URL the upstream hands out; the gateway refuses them.
  include: (x) => !x.path.startsWith('/upload/'),
  providerToml: (u) => geminiToml(u),
  gatewayPath: (x) => `/gemini${x.pathAndQuery}`,
  upstreamPath: (x) => x.pathAndQuery,
  // As @google/genai sends it.
  clientHeaders: () => ({ 'x-goog-api-key': CANARY.gatewayKey, 'x-goog-api-client': 'google-genai-sdk/3.1.0 gl-node/test' }),
  checkCredential: (h) => {
    expect(h.get('x-goog-api-key')).toBe(GEMINI_KEY)
    expect(h.get('authorization')).toBeNull()
  },
  injectsStreamUsage: () => false,
}

/**
 * The Vertex recordings name two projects and two locations; one provider per pair, each reached
 * by its own route. pydantic-ai's recordings go without `projects/…` (as pydantic-ai sends them);
 * the others carry a client-side project and location that the gateway must replace with its own.
 */
const VERTEX_PATH = /^\/(v1|v1beta1)\/projects\/([^/]+)\/locations\/([^/]+)\/(.+)$/
const VERTEX_ROUTES: Record<string, { route: string; strip: boolean }> = {
  'pydantic-ai/global': { route: 'google-vertex', strip: true },
  'gen-lang-client-0498264908/global': { route: 'vertex-genlang', strip: false },
  'gen-lang-client-0498264908/europe-west4': { route: 'vertex-genlang-eu', strip: false },
}

let oauth: OAuthServer | undefined

export const vertexConformance: ConformanceProvider = {
  name: 'google (Vertex AI)',
  folder: 'google',
  hosts: ['aiplatform.googleapis.com'],
  async setup() {
    oauth = await startOAuthServer({ project: 'pydantic-ai' })
  },
  teardown() {
    oauth?.stop()
  },
  providerToml: (u) =>
    [
      vertexToml({ baseUrl: u, tokenUrl: oauth!.tokenUrl }),
      vertexToml({ id: 'vertex-genlang', baseUrl: u, tokenUrl: oauth!.tokenUrl, project: 'gen-lang-client-0498264908' }),
      vertexToml({ id: 'vertex-genlang-eu', baseUrl: u, tokenUrl: oauth!.tokenUrl, project: 'gen-lang-client-0498264908', region: 'europe-west4' }),
    ].join('\n\n'),
  get env() {
    return oauth ? { [SA_ENV]: oauth.accountJson } : undefined
  },
  gatewayPath: (x: Interaction) => {
    const m = VERTEX_PATH.exec(x.path)
    if (!m) throw new Error(`not a Vertex model path: ${x.path}`)
    const [, version, project, location, rest] = m
    const r = VERTEX_ROUTES[`${project}/${location}`]
    if (!r) throw new Error(`no route for project ${project} in ${location}`)
    const query = x.pathAndQuery.slice(x.path.length)
    return r.strip ? `/${r.route}/${version}/${rest}${query}` : `/${r.route}/${version}/projects/client-project/locations/us-central1/${rest}${query}`
  },
  upstreamPath: (x) => x.pathAndQuery,
  // As pydantic-ai's gateway provider sends it: the key as Bearer and in x-goog-api-key.
  clientHeaders: () => ({ authorization: `Bearer ${CANARY.gatewayKey}`, 'x-goog-api-key': CANARY.gatewayKey }),
  checkCredential: (h) => {
    const auth = h.get('authorization') ?? ''
    expect(auth).toStartWith('Bearer ya29.test-')
    // Exactly a token the local OAuth server issued after verifying the gateway's signed JWT.
    expect(oauth!.issued).toContain(auth.slice('Bearer '.length))
    expect(oauth!.refused).toEqual([])
    expect(h.get('x-goog-api-key')).toBeNull()
  },
  injectsStreamUsage: () => false,
}
