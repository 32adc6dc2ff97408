/**
 * A database outage on PostgreSQL: the gateway's own PostgreSQL server (a cluster of this test
 * alone, its own port and data directory) is stopped mid-load (`pg_ctl stop -m fast`: sessions
 * terminated, then connections refused) and started again 6 s later. Afterwards every 2xx a
 * client got has its settled ledger row and its request-log row, no reservation is open, no row
 * was dropped; once the queue is at its bound, new requests get the native 503 and never reach
 * the upstream. (Before the writer told error kinds apart, rows written while the server came
 * back were dropped as "refused by the database", and their reservations stayed open.)
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { drained, expectNothingLost, expectOutageRecovered, loadThroughOutage, startOutageGateway, type OutageGateway, type OutageRun } from '../support/db-outage'
import { skipWithoutPostgres, startOwnPostgres, type OwnPgServer } from '../support/postgres'
import { REDIS_BIN, startRedis, type TestRedis } from '../support/redis'

const noPg = skipWithoutPostgres('PostgreSQL outage test') ?? (process.env.TOLLGATE_TEST_PG_URL ? 'TOLLGATE_TEST_PG_URL is set: this test stops its own server' : undefined)

describe.skipIf(!!noPg)('PostgreSQL stopped for 6 s under load', () => {
  let pg: OwnPgServer | undefined
  let redis: TestRedis | undefined
  const gateways: OutageGateway[] = []
  afterAll(async () => {
    for (const g of gateways) await g.stop()
    await redis?.close()
    await pg?.destroy()
  }, 30_000)

  test('nothing served is lost, nothing left open; a full queue answers 503', async () => {
    pg = await startOwnPostgres()
    const url = await pg.createDatabase('outage')
    const o = await startOutageGateway(url, 400)
    gateways.push(o)
    const errors: string[] = []
    const error = console.error
    console.error = (...a: unknown[]) => void errors.push(a.map(String).join(' '))
    let run: OutageRun | undefined
    try {
      run = await loadThroughOutage(o.url, 6, async () => {
        await Bun.sleep(2000)
        await pg!.stop('fast')
        await Bun.sleep(6000)
        await pg!.start()
      })
      await drained(o.gw)
    } finally {
      console.error = error
    }
    await expectOutageRecovered(o, run!)
    expect(o.gw.writer.failures).toBeGreaterThan(0)
    expect(errors.some((l) => /ECONNREFUSED|57P01|terminating connection/.test(l))).toBe(true)
    const metrics = await o.gw.telemetry.metrics.render()
    expect(metrics).toMatch(/tollgate_db_write_failures_total\{kind="unavailable"\} [1-9]/)
    expect(metrics).toContain('tollgate_db_write_queue_rows 0')
  }, 70_000)

  // The setup: two instances on one PostgreSQL database, sharing limits through Redis.
  test.skipIf(!REDIS_BIN)('two instances with Redis: nothing served by either is lost, nothing left open', async () => {
    pg ??= await startOwnPostgres()
    redis = await startRedis()
    const url = await pg.createDatabase('outage2')
    const cluster = `[cluster]\nredis_url = "${redis.url}"\n`
    const [a, b] = [await startOutageGateway(url, 400, cluster), await startOutageGateway(url, 400, cluster)]
    gateways.push(a, b)
    const error = console.error
    console.error = () => {}
    let runs: OutageRun[] = []
    try {
      let back!: () => void
      const isBack = new Promise<void>((r) => (back = r))
      runs = await Promise.all([
        loadThroughOutage(a.url, 3, async () => {
          await Bun.sleep(2000)
          await pg!.stop('fast')
          await Bun.sleep(6000)
          await pg!.start()
          back()
        }),
        loadThroughOutage(b.url, 3, () => isBack),
      ])
      await drained(a.gw)
      await drained(b.gw)
    } finally {
      console.error = error
    }
    await expectNothingLost(a, runs[0]!.answers)
    await expectNothingLost(b, runs[1]!.answers)
  }, 70_000)
})
