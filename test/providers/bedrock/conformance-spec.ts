/**
 * Bedrock's entries for the conformance suite (test/conformance): the `bedrock` recordings
 * (Converse, ConverseStream with binary event-streams, count-tokens, errors) through a SigV4
 * provider, and the one Bedrock InvokeModel recording in the `anthropic` folder through a
 * Bedrock API key (Bearer).
 */
import { expect } from 'bun:test'
import { CANARY } from '../../support/gateway'
import type { ConformanceProvider } from '../../conformance/providers'
import { BEDROCK, apiKeyProviderToml, canonicalModelPath, expectSigV4Shape, sigv4ProviderToml } from './support'

const bearer = { authorization: `Bearer ${CANARY.gatewayKey}` }

export const BEDROCK_CONFORMANCE: ConformanceProvider[] = [
  {
    folder: 'bedrock',
    hosts: ['bedrock-runtime.'],
    providerToml: (u) => sigv4ProviderToml(u),
    gatewayPath: (x) => `/bedrock${x.pathAndQuery}`,
    upstreamPath: (x) => canonicalModelPath(x.pathAndQuery),
    clientHeaders: () => bearer,
    checkCredential: (h) => expectSigV4Shape(h),
    injectsStreamUsage: () => false,
  },
  {
    name: 'anthropic (Bedrock invoke)',
    folder: 'anthropic',
    hosts: ['bedrock-runtime.'],
    cassettes: ['test_anthropic_cache_bedrock_real_api.yaml'],
    providerToml: (u) => apiKeyProviderToml(u),
    // Sent as Anthropic's Bedrock SDK sends it: the model id not encoded (`v1:0`).
    gatewayPath: (x) => `/bedrock${x.pathAndQuery}`,
    upstreamPath: (x) => canonicalModelPath(x.pathAndQuery),
    clientHeaders: () => bearer,
    checkCredential: (h) => {
      expect(h.get('authorization')).toBe(`Bearer ${BEDROCK.apiKey}`)
      expect(h.get('x-amz-date')).toBeNull()
    },
    injectsStreamUsage: () => false,
  },
]
