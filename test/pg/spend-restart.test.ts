/**
 * test/spend/restart.test.ts on PostgreSQL: `tollgate serve` is killed (-9) while streams are
 * in flight; the next start sweeps every reservation left open (and says so), and the budget
 * it rebuilds equals the ledger's totals.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import postgres from 'postgres'
import { startFixedUpstream } from '../spend/upstream'
import { spawnServe } from '../support/cli'
import { freePort } from '../support/ports'
import { createTestDatabase, dropTestDatabase, skipWithoutPostgres } from '../support/postgres'

const noPg = skipWithoutPostgres('PostgreSQL restart test')
const KEY = 'tg-restart-key-00000000000000001'

describe.skipIf(!!noPg)('spend after kill -9 on PostgreSQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-pg-restart-'))
  const upstream = startFixedUpstream({ usage: { prompt: 20, completion: 100 }, chunks: 40, delayMs: 50 })
  const procs: ReturnType<typeof Bun.spawn>[] = []
  let url: string | undefined
  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL')
    upstream.stop()
    rmSync(dir, { recursive: true, force: true })
    if (url) await dropTestDatabase(url)
  })



  test('no open reservation after the next start, and counters equal the ledger', async () => {
    url = await createTestDatabase('restart')
    await Bun.write(
      join(dir, 'config.toml'),
      `[database]\nurl = "${url}"\n[limits]\nledger_flush_ms = 10\n` +
        `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${upstream.url}/v1"\napi_key = "sk-x"\n` +
        `[[projects]]\nid = "p"\nlimits = { daily = 100.0 }\n[[users]]\nid = "root"\nrole = "admin"\nprojects = ["p"]\n` +
        `[[keys]]\nid = "k"\nproject = "p"\nuser = "root"\nkey = "${KEY}"\nlimits = { total = 50.0 }\n`,
    )
    const port = freePort()
    const first = await spawnServe(join(dir, 'config.toml'), port, procs)
    const client = new OpenAI({ apiKey: KEY, baseURL: `http://127.0.0.1:${port}/openai`, maxRetries: 0 })
    for (let i = 0; i < 5; i++) await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: `q${i}` }] })
    const streams = Array.from({ length: 20 }, (_, i) =>
      client.chat.completions
        .create({ model: 'gpt-4o', messages: [{ role: 'user', content: `s${i}` }], stream: true })
        .then(async (s) => {
          for await (const _ of s) {
            // until the gateway dies
          }
        })
        .catch(() => {}),
    )
    const sql = postgres(url, { max: 1, onnotice: () => {} })
    try {
      const openRows = async () => Number((await sql`SELECT count(*) AS n FROM spend_ledger WHERE state = 'reserved'`)[0]!.n)
      for (let i = 0; (await openRows()) < 20; i++) {
        if (i > 400) throw new Error('reservations were never written')
        await Bun.sleep(10)
      }
      first.proc.kill('SIGKILL')
      await first.proc.exited
      await Promise.all(streams)
      const open = await openRows()
      expect(open).toBeGreaterThanOrEqual(20)

      const second = await spawnServe(join(dir, 'config.toml'), port, procs)
      expect(second.output()).toContain(`spend: swept ${open} reservation(s) left open by a crash`)
      const states = Object.fromEntries((await sql`SELECT state, count(*)::int AS n FROM spend_ledger GROUP BY state`).map((r) => [r.state as string, r.n as number]))
      expect(states).toEqual({ recovered: open, settled: 5 })
      const [{ total }] = (await sql`SELECT sum(cost_nanos)::bigint::text AS total FROM spend_ledger`) as unknown as [{ total: string }]
      const report = (await (await fetch(`http://127.0.0.1:${port}/v1/spend?window=total`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as {
        data: { scope: string; id: string; spent_nanos: number; reserved_nanos: number }[]
      }
      for (const [scope, id] of [['key', 'k'], ['user', 'root'], ['project', 'p']]) {
        const line = report.data.find((l) => l.scope === scope && l.id === id)!
        expect(line.spent_nanos).toBe(Number(total))
        expect(line.reserved_nanos).toBe(0)
      }
      // "charge" rule: every recovered row is charged at its reservation.
      const [charged] = await sql`SELECT count(*)::int AS n FROM spend_ledger WHERE state = 'recovered' AND cost_nanos = reserved_nanos AND estimated AND note = 'crash'`
      expect(charged!.n).toBe(open)
      second.proc.kill('SIGTERM')
      await second.proc.exited
    } finally {
      await sql.end()
    }
  }, 60_000)
})
