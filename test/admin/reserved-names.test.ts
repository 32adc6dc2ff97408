/**
 * Reserved names in config.toml: a provider id may be an alias of its own api (`id = "openai"`,
 * `api = "openai"`), never another api's alias or a gateway path; project ids none of them.
 */
import { expect, test } from 'bun:test'
import { parseConfig } from '../../src/config/load'

const problems = async (toml: string) => {
  try {
    await parseConfig(toml, 'config.toml', {})
    return []
  } catch (e) {
    return ((e as { problems?: { path: string; message: string }[] }).problems ?? []).map((p) => `${p.path}: ${p.message}`)
  }
}

test("a provider id equal to its own api's alias is the intended case", async () => {
  expect(await problems('[[providers]]\nid = "openai"\napi = "openai"\napi_key = "k"\n[[providers]]\nid = "chat"\napi = "openai"\napi_key = "k"\n')).toEqual([])
  expect(await problems('[[providers]]\nid = "anthropic"\napi = "anthropic"\napi_key = "k"\n[[providers]]\nid = "a2"\napi = "anthropic"\napi_key = "k"\n[[routes]]\nname = "anthropic"\ntargets = [{ provider = "a2" }, { provider = "anthropic" }]\n')).toEqual([])
})

test('another api\'s alias or a gateway path is refused, naming the path and the collision', async () => {
  const p = await problems(
    '[[providers]]\nid = "chat"\napi = "anthropic"\napi_key = "k"\n[[providers]]\nid = "metrics"\napi = "openai"\napi_key = "k"\n[[projects]]\nid = "admin"\n[[routes]]\nname = "gemini"\ntargets = [{ provider = "chat" }]\n',
  )
  expect(p).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^providers\[0\]\.id: "chat" is reserved.*openai api/),
      expect.stringMatching(/^providers\[1\]\.id: "metrics" is reserved/),
      expect.stringMatching(/^projects\[0\]\.id: "admin" is reserved/),
      expect.stringMatching(/^routes\[0\]\.name: "gemini" is reserved.*gemini api/),
    ]),
  )
})
