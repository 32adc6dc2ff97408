/** How each provider's recordings map onto gateway routes; issue-specific providers add entries. */
import { expect } from 'bun:test'
import { CANARY } from '../support/gateway'
import type { Interaction } from '../support/recordings'
import { BEDROCK_CONFORMANCE } from '../providers/bedrock/conformance-spec'
import { geminiConformance, vertexConformance } from '../google/conformance-entries'

export interface ConformanceProvider {
  folder: string
  hosts: string[]
  providerToml(upstreamUrl: string): string
  env?: Record<string, string>
  gatewayPath(x: Interaction): string
  upstreamPath(x: Interaction): string
  clientHeaders(x: Interaction): Record<string, string>
  checkCredential(h: Headers): void
  injectsStreamUsage(x: Interaction): boolean
  /** Suite title when one folder feeds several entries (default: the folder). */
  name?: string
  /** Which of its hosts' interactions to replay (default: all of them). */
  include?(x: Interaction): boolean
  /** Runs before the gateway starts (e.g. a local OAuth server), and after it stops. */
  setup?(): Promise<void>
  teardown?(): void
  /** Only these recordings of the folder (default: all of them). */
  cassettes?: string[]
  /** Recordings of the folder another entry replays. */
  except?: string[]
}

const UNSEEN_OBJECT = 'test_openai_previous_response_id_auto_mode.yaml'

const bearer = { authorization: `Bearer ${CANARY.gatewayKey}` }

const openai = (folder: string): ConformanceProvider => ({
  folder,
  hosts: ['api.openai.com'],
  providerToml: (u) => `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${u}/v1"\napi_key = "${CANARY.openaiKey}"`,
  gatewayPath: (x) => `/openai${x.pathAndQuery.replace(/^\/v1/, '')}`,
  upstreamPath: (x) => x.pathAndQuery,
  clientHeaders: () => bearer,
  checkCredential: (h) => expect(h.get('authorization')).toBe(`Bearer ${CANARY.openaiKey}`),
  injectsStreamUsage: (x) => {
    const b = x.requestBody as { stream?: boolean; stream_options?: { include_usage?: boolean } } | undefined
    return x.path.endsWith('/chat/completions') && b?.stream === true && b.stream_options?.include_usage !== true
  },
})

export const CONFORMANCE_PROVIDERS: ConformanceProvider[] = [
  openai('openai'),
  { ...openai('openai_responses'), except: [UNSEEN_OBJECT] },
  // Its first request continues a response made before the recording: an object the gateway
  // never saw created, which project isolation refuses (test/objects). Replayed unisolated.
  {
    ...openai('openai_responses'),
    name: 'openai_responses (isolation = "none")',
    cassettes: [UNSEEN_OBJECT],
    providerToml: (u) => `${openai('openai_responses').providerToml(u)}\nisolation = "none"`,
  },
  {
    folder: 'anthropic',
    hosts: ['api.anthropic.com'],
    providerToml: (u) => `[[providers]]\nid = "anthropic"\napi = "anthropic"\nbase_url = "${u}"\napi_key = "${CANARY.anthropicKey}"`,
    gatewayPath: (x) => `/anthropic${x.pathAndQuery}`,
    upstreamPath: (x) => x.pathAndQuery,
    clientHeaders: (x) => ({ 'x-api-key': CANARY.gatewayKey, 'anthropic-version': '2023-06-01', ...(x.requestHeaders['anthropic-beta'] ? { 'anthropic-beta': x.requestHeaders['anthropic-beta'][0]! } : {}) }),
    checkCredential: (h) => {
      expect(h.get('x-api-key')).toBe(CANARY.anthropicKey)
      expect(h.get('authorization')).toBeNull()
    },
    injectsStreamUsage: () => false,
  },
  {
    folder: 'groq',
    hosts: ['api.groq.com'],
    providerToml: (u) => `[[providers]]\nid = "groq"\napi = "groq"\nbase_url = "${u}"\napi_key = "${CANARY.groqKey}"`,
    gatewayPath: (x) => `/groq${x.pathAndQuery}`,
    upstreamPath: (x) => x.pathAndQuery,
    clientHeaders: () => bearer,
    checkCredential: (h) => expect(h.get('authorization')).toBe(`Bearer ${CANARY.groqKey}`),
    injectsStreamUsage: () => false,
  },
  geminiConformance,
  vertexConformance,
  ...BEDROCK_CONFORMANCE,
]
