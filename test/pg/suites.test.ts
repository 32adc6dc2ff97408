/**
 * The conformance suite and the spend-limit suites, run again on PostgreSQL: a child
 * `bun test` with TOLLGATE_TEST_DB=postgres, so every gateway those suites start
 * (test/support/gateway.ts) gets a database of its own on this process's cluster.
 * (test/pg/spend-restart.test.ts covers kill -9 recovery, which runs `serve` itself.)
 */
import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { skipWithoutPostgres, startPostgres } from '../support/postgres'

const noPg = skipWithoutPostgres('suites on PostgreSQL')
const ROOT = join(import.meta.dir, '../..')

const SUITES: [string, string[]][] = [
  ['conformance', ['test/conformance']],
  ['spend limits', ['test/spend/race.test.ts', 'test/spend/windows.test.ts', 'test/spend/lifecycle.test.ts', 'test/spend/stream-split.test.ts']],
]

describe.skipIf(!!noPg)('suites on PostgreSQL', () => {
  for (const [name, paths] of SUITES) {
    test(`${name} (${paths.join(', ')})`, async () => {
      const pg = await startPostgres()
      const child = Bun.spawn([process.execPath, 'test', ...paths], {
        cwd: ROOT,
        env: { ...process.env, TOLLGATE_TEST_DB: 'postgres', TOLLGATE_TEST_PG_URL: pg.adminUrl },
        stdout: 'pipe',
        stderr: 'pipe',
      })
      const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
      const text = out + err
      const count = (what: string) => Number(new RegExp(`^\\s*(\\d+) ${what}$`, 'm').exec(text)?.[1] ?? 0)
      const failed = text.split('\n').filter((l) => l.startsWith('(fail)'))
      if (code !== 0) throw new Error(`${name} on PostgreSQL: exit ${code}, ${count('fail')} failed\n${failed.join('\n')}\n${text.slice(-4000)}`)
      expect(failed).toEqual([])
      expect(count('pass')).toBeGreaterThan(0)
      console.log(`${name} on PostgreSQL: ${count('pass')} pass`)
    }, 300_000)
  }
})
