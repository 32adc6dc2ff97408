/**
 * A postgres.js client that hands values back the way libSQL does, so the libSQL table
 * objects' codecs (src/db/schema*.ts) work unchanged on PostgreSQL (see src/db/client.ts):
 * - int8 and numeric come back as JS numbers, not strings: money is integer nano-dollars
 *   (exact up to 2^53, about $9M) and `sum()` of a bigint column is numeric in PostgreSQL;
 * - json/jsonb come back as text and are written as given: the column codecs do the JSON;
 * - a boolean parameter may be 1/0 (what the SQLite boolean codec and the batched writer
 *   send); postgres.js would send any non-`true` value as false.
 */
import postgres, { type Sql } from 'postgres'

export { isPostgresUrl } from './url'

export interface PgClientOptions {
  /** Pool size (default 10). */
  max?: number
}

/**
 * Seconds before a connection that closed with an error connects again. postgres.js's default
 * grows with a failure count shared by the pool (3^n / 100, to 20 s, reset only by a connection
 * that succeeds): a short outage under load took it to 10-20 s, so queries kept failing and
 * waiting that long after the server was back. Here it doubles from 50 ms to at most 1 s.
 */
export function reconnectBackoff(retries: number): number {
  return (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, 1)
}

export function pgClient(url: string, opts: PgClientOptions = {}): Sql {
  const sql = postgres(url, {
    max: opts.max ?? 10,
    // `CREATE … IF NOT EXISTS` and friends send notices; postgres.js would print each one.
    onnotice: () => {},
    // Fail a dead server in seconds (/ready, start-up), not after the 30 s default.
    connect_timeout: 10,
    backoff: reconnectBackoff,
  })
  const asText = (x: string) => x
  const asNumber = (x: string) => Number(x)
  for (const oid of [20, 1700]) sql.options.parsers[oid] = asNumber
  for (const oid of [114, 3802]) {
    sql.options.parsers[oid] = asText
    sql.options.serializers[oid] = asText
  }
  sql.options.serializers[16] = (x: unknown) => (typeof x === 'string' ? x : x ? 't' : 'f')
  return sql
}
