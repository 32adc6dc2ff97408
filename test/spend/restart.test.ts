/**
 * kill -9 under load: `tollgate serve` is killed while streams are in flight; the next start
 * sweeps every reservation left open (and says so in its log), and the budget it rebuilds
 * equals the ledger's totals.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from '@libsql/client'
import OpenAI from 'openai'
import { startFixedUpstream } from './upstream'
import { spawnServe } from '../support/cli'
import { freePort } from '../support/ports'

const dir = mkdtempSync(join(tmpdir(), 'tollgate-restart-'))
const upstream = startFixedUpstream({ usage: { prompt: 20, completion: 100 }, chunks: 40, delayMs: 50 })
const procs: ReturnType<typeof Bun.spawn>[] = []
afterAll(() => {
  for (const p of procs) p.kill('SIGKILL')
  upstream.stop()
  rmSync(dir, { recursive: true, force: true })
})



test('a kill -9 leaves no open reservation after the next start, and counters equal the ledger', async () => {
  const db = join(dir, 'test.db')
  await Bun.write(
    join(dir, 'config.toml'),
    `[database]\nurl = "file:${db}"\n[limits]\nledger_flush_ms = 10\n` +
      `[[providers]]\nid = "openai"\napi = "openai"\nbase_url = "${upstream.url}/v1"\napi_key = "sk-x"\n` +
      `[[projects]]\nid = "p"\nlimits = { daily = 100.0 }\n[[users]]\nid = "root"\nrole = "admin"\nprojects = ["p"]\n` +
      `[[keys]]\nid = "k"\nproject = "p"\nuser = "root"\nkey = "tg-restart-key-00000000000000001"\nlimits = { total = 50.0 }\n`,
  )
  const port = freePort()
  const first = await spawnServe(join(dir, 'config.toml'), port, procs)
  const client = new OpenAI({ apiKey: 'tg-restart-key-00000000000000001', baseURL: `http://127.0.0.1:${port}/openai`, maxRetries: 0 })
  // Finished requests first, then streams still running when the process dies.
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
  const sql = createClient({ url: `file:${db}` })
  for (let i = 0; ; i++) {
    const r = await sql.execute("SELECT count(*) AS n FROM spend_ledger WHERE state = 'reserved'")
    if (Number(r.rows[0]!.n) >= 20) break
    if (i > 400) throw new Error('reservations were never written')
    await Bun.sleep(10)
  }
  first.proc.kill('SIGKILL')
  await first.proc.exited
  await Promise.all(streams)
  const open = Number((await sql.execute("SELECT count(*) AS n FROM spend_ledger WHERE state = 'reserved'")).rows[0]!.n)
  expect(open).toBeGreaterThanOrEqual(20)

  const second = await spawnServe(join(dir, 'config.toml'), port, procs)
  expect(second.output()).toContain(`spend: swept ${open} reservation(s) left open by a crash`)
  const after = await sql.execute("SELECT state, count(*) AS n, sum(cost_nanos) AS c FROM spend_ledger GROUP BY state ORDER BY state")
  const states = Object.fromEntries(after.rows.map((r) => [r.state as string, Number(r.n)]))
  expect(states.reserved).toBeUndefined()
  expect(states.recovered).toBe(open)
  expect(states.settled).toBe(5)

  const total = Number((await sql.execute('SELECT sum(cost_nanos) AS c FROM spend_ledger')).rows[0]!.c)
  const report = (await (await fetch(`http://127.0.0.1:${port}/v1/spend?window=total`, { headers: { authorization: 'Bearer tg-restart-key-00000000000000001' } })).json()) as {
    data: { scope: string; id: string; spent_nanos: number; reserved_nanos: number }[]
  }
  for (const [scope, id] of [['key', 'k'], ['user', 'root'], ['project', 'p']]) {
    const line = report.data.find((l) => l.scope === scope && l.id === id)!
    expect(line.spent_nanos).toBe(total)
    expect(line.reserved_nanos).toBe(0)
  }
  // "charge" rule: every recovered row is charged at its reservation.
  const recovered = await sql.execute("SELECT count(*) AS n FROM spend_ledger WHERE state = 'recovered' AND cost_nanos = reserved_nanos AND note = 'crash'")
  expect(Number(recovered.rows[0]!.n)).toBe(open)
  sql.close()
  second.proc.kill('SIGTERM')
  await second.proc.exited
})
