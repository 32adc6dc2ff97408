/**
 * runChecks, the admit step's walk: checks that wait (Redis, the database) overlap, so two shared
 * checks cost one round trip, not two; a refusal at once stops the walk; the first refusal in
 * order is the answer. (What the admitted checks took is released by the pipeline's finish:
 * test/ratelimit/hooks.test.ts shows a slot freed when a later check refuses.)
 */
import { expect, test } from 'bun:test'
import { runChecks } from '../../src/proxy/pipeline'

const refusal = (code: string) => Object.assign(new Error(code), { status: 429, code })

function check(name: string, log: string[], run: () => void | Promise<void>): () => void | Promise<void> {
  return () => (log.push(`start ${name}`), run())
}

test('async checks overlap: the second starts before the first answers', async () => {
  const log: string[] = []
  const slow = (name: string) => check(name, log, () => Bun.sleep(30).then(() => void log.push(`granted ${name}`)))
  await runChecks([slow('rate'), check('spend', log, () => {}), slow('shared')])
  expect(log).toEqual(['start rate', 'start spend', 'start shared', 'granted rate', 'granted shared'])
})

test('a later async refusal waits for the others, then goes on', async () => {
  const log: string[] = []
  const run = runChecks([check('rate', log, () => Bun.sleep(5).then(() => void log.push('granted rate'))), check('spend', log, () => {}), check('shared', log, () => Promise.reject(refusal('budget')))])
  await expect(run).rejects.toThrow('budget')
  // The rate grant arrived before the refusal went on, so finish() can release it.
  expect(log).toEqual(['start rate', 'start spend', 'start shared', 'granted rate'])
})

test('the first refusal in order wins; a sync refusal stops the walk', async () => {
  const log: string[] = []
  const run = runChecks([
    check('rate', log, () => Bun.sleep(5).then(() => Promise.reject(refusal('rate')))),
    check('spend', log, () => {
      throw refusal('spend')
    }),
    check('shared', log, () => {}),
  ])
  await expect(run).rejects.toThrow('rate')
  expect(log).toEqual(['start rate', 'start spend'])
})

test('all sync and admitted: resolves without waiting on anything', async () => {
  const log: string[] = []
  await runChecks([check('a', log, () => {}), check('b', log, () => {})])
  expect(log).toEqual(['start a', 'start b'])
})
