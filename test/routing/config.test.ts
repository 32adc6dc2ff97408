/** `[[routes]]`, provider `timeouts` and `circuit_breaker` in config.toml, and how the route table resolves them. */
import { describe, expect, test } from 'bun:test'
import { ConfigError, parseConfig } from '../../src/config/load'
import { RouteTable } from '../../src/proxy/routes'
import { timeoutsFor, DEFAULT_TIMEOUTS } from '../../src/proxy/timeouts'

const providers = `
[[providers]]
id = "anthropic"
api = "anthropic"
api_key = "k"
timeouts = { connect_ms = 2000, first_byte_ms = 15000, idle_ms = 60000, total_ms = 0 }
circuit_breaker = { failures = 3, cooldown_ms = 10000 }

[[providers]]
id = "anthropic-2"
api = "anthropic"
api_key = "k"

[[providers]]
id = "openai"
api = "openai"
api_key = "k"
`

async function problems(toml: string): Promise<string[]> {
  try {
    await parseConfig(toml, 'test.toml', {})
    return []
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e
    return e.problems.map((p) => `${p.path}: ${p.message}`)
  }
}

describe('config', () => {
  test('a routing group with priorities and weights loads; defaults apply in the route table', async () => {
    const { config } = await parseConfig(
      `${providers}
[[routes]]
name = "claude"
targets = [{ provider = "anthropic-2", priority = 5 }, { provider = "anthropic", priority = 10, weight = 2.5 }]
`,
      'test.toml',
      {},
    )
    const route = new RouteTable(config).get('claude')!
    expect(route.targets.map((t) => [t.provider.id, t.priority, t.weight])).toEqual([
      ['anthropic-2', 5, 1],
      ['anthropic', 10, 2.5],
    ])
    // The primary target (highest priority) sets the error shape.
    expect(route.api.api).toBe('anthropic')
  })

  test('a group named like an api alias or a provider takes precedence', async () => {
    const { config } = await parseConfig(
      `${providers}
[[routes]]
name = "anthropic"
targets = [{ provider = "anthropic-2" }, { provider = "anthropic" }]

[[routes]]
name = "openai"
targets = [{ provider = "openai" }, { provider = "anthropic" }]
`,
      'test.toml',
      {},
    )
    const table = new RouteTable(config)
    expect(table.get('anthropic')!.targets.map((t) => t.provider.id)).toEqual(['anthropic-2', 'anthropic'])
    expect(table.get('openai')!.targets).toHaveLength(2)
    expect(table.get('anthropic-2')!.targets).toHaveLength(1)
  })

  test('unknown providers, duplicate names, repeated targets and bad values name their TOML paths', async () => {
    expect(
      await problems(`${providers}
[[routes]]
name = "g"
targets = [{ provider = "anthropic" }, { provider = "nope" }, { provider = "anthropic" }]

[[routes]]
name = "g"
targets = [{ provider = "openai" }]
`),
    ).toEqual([
      'routes[0].targets[1].provider: unknown provider "nope"',
      'routes[0].targets[2].provider: provider "anthropic" is already a target of this route',
      'routes[1].name: duplicate route name "g" (also routes[0])',
    ])
    const bad = await problems(`${providers}
[[routes]]
name = "g"
targets = []

[[routes]]
name = "h"
targets = [{ provider = "openai", weight = 0, prio = 1 }]
`)
    expect(bad.some((p) => p.startsWith('routes[0].targets'))).toBe(true)
    expect(bad.some((p) => p.startsWith('routes[1].targets[0].weight'))).toBe(true)
    expect(bad).toContain('routes[1].targets[0].prio: unknown key')
    expect(await problems(`[[providers]]\nid = "o"\napi = "openai"\napi_key = "k"\ntimeouts = { idle = 5 }`)).toContain('providers[0].timeouts.idle: unknown key')
  })

  test('timeouts: configured values, 0 for off, defaults for the rest', async () => {
    const { config } = await parseConfig(providers, 'test.toml', {})
    expect(timeoutsFor(config.providers[0]!)).toEqual({ connectMs: 2000, firstByteMs: 15000, idleMs: 60000, totalMs: 0 })
    expect(timeoutsFor(config.providers[1]!)).toEqual(DEFAULT_TIMEOUTS)
  })
})
