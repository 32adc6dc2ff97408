/**
 * Benchmark rows for routing groups: what a failed first target costs. The group's first target
 * refuses connections (a closed loopback port), the second is the bench stub. With the breaker
 * off every request pays the failed attempt; with the default breaker the dead target is skipped
 * after 5 failures, so the row shows what the breaker saves.
 */
import type { RowFactory, Target } from './bench'

type StartTollgate = (stub: string, extraToml?: string) => Promise<string>

/** A loopback port with nothing listening. */
function closedPort(): number {
  const l = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = l.port
  l.stop(true)
  return port
}

/**
 * Starts a Tollgate whose route `gpt-failover` tries a refused provider first, then the stub.
 * `breaker: false` turns the dead target's circuit breaker off so every request fails over.
 */
export async function benchFailover(stub: string, startTollgate: StartTollgate, key: string, breaker = false): Promise<Target> {
  const toml =
    `[[providers]]\nid = "down"\napi = "openai"\nbase_url = "http://127.0.0.1:${closedPort()}/v1"\napi_key = "sk-test-bench"\n` +
    (breaker ? '' : 'circuit_breaker = { failures = 0 }\n') +
    `[[routes]]\nname = "gpt-failover"\ntargets = [{ provider = "down", priority = 1 }, { provider = "openai" }]\n`
  const url = await startTollgate(stub, toml)
  return { name: breaker ? 'tollgate failover, breaker on' : 'tollgate failover (1st refused)', base: `${url}/gpt-failover`, headers: { authorization: `Bearer ${key}` } }
}

/** The rows bench.ts adds: every request fails over; and the same with the breaker skipping the dead target. */
export function failoverRows(startTollgate: StartTollgate, key: string): { name: string; make: RowFactory }[] {
  return [
    { name: 'tollgate failover (1st refused)', make: (stub) => benchFailover(stub, startTollgate, key, false) },
    { name: 'tollgate failover, breaker on', make: (stub) => benchFailover(stub, startTollgate, key, true) },
  ]
}
