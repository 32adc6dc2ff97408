/**
 * The query client (src/db/pg/database.ts, a pool of 10) across a server restart under load:
 * while the server is down a query fails within the connect timeout (10 s) instead of waiting
 * on reconnect backoff, and once the server is back every query of a burst answers within a few
 * seconds. (postgres.js's default backoff grows with a failure count its pool shares, to 20 s:
 * before src/db/pg/connect.ts bounded it, queries waited 20-30 s to fail during the outage and
 * kept failing for 15-20 s after the server was back.)
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { openPostgres } from '../../src/db/pg/database'
import type { Database } from '../../src/db/client'
import { skipWithoutPostgres, startOwnPostgres, type OwnPgServer } from '../support/postgres'

const noPg = skipWithoutPostgres('PostgreSQL query client restart test') ?? (process.env.TOLLGATE_TEST_PG_URL ? 'TOLLGATE_TEST_PG_URL is set: this test stops its own server' : undefined)
/** postgres.js's connect_timeout in src/db/pg/connect.ts. */
const CONNECT_TIMEOUT_MS = 10_000

describe.skipIf(!!noPg)('PostgreSQL query client across a server restart', () => {
  let pg: OwnPgServer | undefined
  let database: Database | undefined
  afterAll(async () => {
    await database?.close().catch(() => {})
    await pg?.destroy()
  }, 30_000)

  /** 20 concurrent queries (twice the pool's 10 connections): how many answered, and how long all took to settle. */
  const burst = async (db: Database) => {
    const t = performance.now()
    const r = await Promise.allSettled(Array.from({ length: 20 }, () => db.db.all(sql`SELECT 1 AS one`)))
    return { ok: r.filter((x) => x.status === 'fulfilled').length, ms: performance.now() - t }
  }

  test('while the server is down queries fail within the connect timeout; once it is back all answer again', async () => {
    pg = await startOwnPostgres()
    const url = await pg.createDatabase('restart')
    database = await openPostgres(url)
    expect((await burst(database)).ok).toBe(20)
    for (let round = 0; round < 2; round++) {
      await pg.stop('fast')
      // Clients keep asking while it is down (the request path, /ready): each failure grows the backoff.
      for (let i = 0; i < 4; i++) {
        const down = await burst(database)
        expect(down.ok).toBe(0)
        expect(down.ms).toBeLessThan(CONNECT_TIMEOUT_MS)
      }
      await pg.start()
      const back = performance.now()
      let ok = 0
      while (ok < 20 && performance.now() - back < 5000) {
        ok = (await burst(database)).ok
        if (ok < 20) await Bun.sleep(100)
      }
      expect(ok).toBe(20)
      await database.ping()
    }
  }, 120_000)
})
