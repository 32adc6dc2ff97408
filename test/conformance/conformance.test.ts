/**
 * One suite, every provider: each recorded exchange is replayed by a local upstream and
 * sent through the gateway as the client sent it. The client must get the provider's status
 * and body byte for byte; the upstream must get the body unchanged (bar the documented
 * stream_options), the provider credential, and never the gateway key.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { CANARY, basicConfig, startGateway, type TestGateway } from '../support/gateway'
import { listCassettes, loadCassette, type Interaction } from '../support/recordings'
import { startReplayUpstream, type ReplayUpstream } from '../support/replay-upstream'
import { CONFORMANCE_PROVIDERS } from './providers'
import { PRICING_TOML, checkCost, costSink } from './cost'

for (const spec of CONFORMANCE_PROVIDERS) {
  describe(`conformance: ${spec.name ?? spec.folder}`, () => {
    let upstream: ReplayUpstream
    let gateway: TestGateway
    beforeAll(async () => {
      await spec.setup?.()
      upstream = startReplayUpstream([])
      gateway = await startGateway(basicConfig(spec.providerToml(upstream.url), PRICING_TOML), { env: spec.env, sinks: [costSink] })
    })
    afterAll(async () => {
      await gateway.stop()
      upstream.stop()
      spec.teardown?.()
    })

    for (const name of spec.cassettes ?? listCassettes(spec.folder).filter((n) => !spec.except?.includes(n))) {
      test(name, async () => {
        const cassette = await loadCassette(spec.folder, name)
        const ours = cassette.interactions.filter((x) => spec.hosts.some((h) => x.host.includes(h)) && (spec.include?.(x) ?? true))
        if (!ours.length) return
        upstream.use(cassette.interactions)
        for (const x of ours) await replayThroughGateway(x, spec, gateway, upstream)
      })
    }
  })
}

async function replayThroughGateway(x: Interaction, spec: (typeof CONFORMANCE_PROVIDERS)[number], gateway: TestGateway, upstream: ReplayUpstream) {
  const before = upstream.received.length
  const body = x.requestBody === undefined ? undefined : typeof x.requestBody === 'string' ? x.requestBody : JSON.stringify(x.requestBody)
  const res = await fetch(gateway.url + spec.gatewayPath(x), {
    method: x.method,
    headers: { ...spec.clientHeaders(x), ...(body ? { 'content-type': x.requestHeaders['content-type']?.[0] ?? 'application/json' } : {}) },
    body,
  })
  const got = new Uint8Array(await res.arrayBuffer())
  expect(res.status).toBe(x.status)
  expect(new TextDecoder().decode(got)).toBe(new TextDecoder().decode(x.responseBody))
  checkCost(res, x)

  const sent = upstream.received[before]!
  expect(sent).toBeDefined()
  expect(sent.pathAndQuery).toBe(spec.upstreamPath(x))
  for (const [name, value] of sent.headers) expect(value).not.toContain(CANARY.gatewayKey)
  spec.checkCredential(sent.headers)
  if (body) {
    if (spec.injectsStreamUsage(x)) {
      const { stream_options: _s, ...rest } = sent.json as Record<string, unknown>
      const { stream_options: _r, ...want } = x.requestBody as Record<string, unknown>
      expect(rest).toEqual(want)
      expect((sent.json as { stream_options: { include_usage: boolean } }).stream_options.include_usage).toBe(true)
    } else {
      // Byte for byte: the gateway forwards what the client sent.
      expect(new TextDecoder().decode(sent.body)).toBe(body)
    }
  }
}
