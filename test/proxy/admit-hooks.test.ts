/** runAdmitHooks: shared checks overlap (one round trip, not two); a refusal releases every hook that admitted. */
import { expect, test } from 'bun:test'
import { runAdmitHooks, type ProxyContext, type RequestHooks } from '../../src/proxy/context'

const ctx = () => ({ record: { status: 0 } }) as unknown as ProxyContext
const refusal = (code: string) => Object.assign(new Error(code), { status: 429, code })

function hook(name: string, log: string[], admit: () => void | Promise<void>): RequestHooks {
  return { admit: () => (log.push(`admit ${name}`), admit()), settle: () => void log.push(`settle ${name}`) }
}

test('async admits overlap: the second starts before the first answers', async () => {
  const log: string[] = []
  const slow = (name: string) => hook(name, log, () => Bun.sleep(30).then(() => void log.push(`granted ${name}`)))
  await runAdmitHooks([slow('rate'), hook('spend', log, () => {}), slow('shared')], ctx())
  expect(log).toEqual(['admit rate', 'admit spend', 'admit shared', 'granted rate', 'granted shared'])
})

test('a later async refusal settles every hook that admitted, and goes on', async () => {
  const log: string[] = []
  const c = ctx()
  const run = runAdmitHooks([hook('rate', log, () => Bun.sleep(5)), hook('spend', log, () => {}), hook('shared', log, () => Promise.reject(refusal('budget')))], c)
  await expect(run).rejects.toThrow('budget')
  expect(log.filter((l) => l.startsWith('settle'))).toEqual(['settle rate', 'settle spend'])
  expect(c.record.status).toBe(429)
  expect(c.record.error).toBe('budget')
})

test('the first refusal in hook order wins; a sync refusal stops the walk', async () => {
  const log: string[] = []
  const run = runAdmitHooks([hook('rate', log, () => Bun.sleep(5).then(() => Promise.reject(refusal('rate')))), hook('spend', log, () => {
    throw refusal('spend')
  }), hook('shared', log, () => {})], ctx())
  await expect(run).rejects.toThrow('rate')
  // shared never started; rate refused, spend refused: nothing to settle.
  expect(log).toEqual(['admit rate', 'admit spend'])
})

test('all sync and admitted: no await needed, nothing settled', async () => {
  const log: string[] = []
  await runAdmitHooks([hook('a', log, () => {}), hook('b', log, () => {})], ctx())
  expect(log).toEqual(['admit a', 'admit b'])
})
