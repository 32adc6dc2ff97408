/**
 * PostgreSQL mirror of src/db/schema.ts, used only to generate drizzle-pg/ migrations: the
 * code above the database builds queries with the libSQL table objects on either engine
 * (why: src/db/client.ts). Same table, column and index names; test/pg/schema-parity.test.ts
 * fails when the two drift. Money and instants are bigint (int8), read back as JS numbers.
 */
import { bigint, boolean, index, integer, json, jsonb, pgTable, text } from 'drizzle-orm/pg-core'

export const apiKeys = pgTable('api_keys', {
  id: text('id').primaryKey(),
  name: text('name'),
  project: text('project').notNull(),
  user: text('user'),
  keySha256: text('key_sha256').notNull().unique(),
  displayPrefix: text('display_prefix').notNull(),
  providers: jsonb('providers').$type<string[]>(),
  models: jsonb('models').$type<string[]>(),
  limitDailyNanos: bigint('limit_daily_nanos', { mode: 'number' }),
  limitWeeklyNanos: bigint('limit_weekly_nanos', { mode: 'number' }),
  limitMonthlyNanos: bigint('limit_monthly_nanos', { mode: 'number' }),
  limitTotalNanos: bigint('limit_total_nanos', { mode: 'number' }),
  rateRpm: integer('rate_rpm'),
  rateTpm: integer('rate_tpm'),
  rateConcurrency: integer('rate_concurrency'),
  expiresAt: bigint('expires_at', { mode: 'number' }),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  revokedAt: bigint('revoked_at', { mode: 'number' }),
})

/** Bumped by triggers on api_keys (drizzle-pg/0003_key_changes.sql); see src/db/schema.ts. */
export const changeCounters = pgTable('change_counters', {
  name: text('name').primaryKey(),
  version: bigint('version', { mode: 'number' }).notNull().default(0),
})

export const requestLog = pgTable(
  'request_log',
  {
    id: text('id').primaryKey(),
    ts: bigint('ts', { mode: 'number' }).notNull(),
    keyId: text('key_id'),
    project: text('project'),
    user: text('user'),
    provider: text('provider'),
    route: text('route'),
    api: text('api'),
    model: text('model'),
    method: text('method').notNull(),
    path: text('path').notNull(),
    stream: boolean('stream').notNull().default(false),
    status: integer('status').notNull(),
    durationMs: integer('duration_ms').notNull(),
    ttfbMs: integer('ttfb_ms'),
    inputTokens: integer('input_tokens'),
    outputTokens: integer('output_tokens'),
    cacheReadTokens: integer('cache_read_tokens'),
    cacheWriteTokens: integer('cache_write_tokens'),
    /** `json`, not `jsonb`: the provider's usage object is kept exactly as reported (key order, spacing). */
    usage: json('usage'),
    costNanos: bigint('cost_nanos', { mode: 'number' }),
    error: text('error'),
    attempts: jsonb('attempts'),
  },
  (t) => [index('request_log_ts').on(t.ts), index('request_log_key_ts').on(t.keyId, t.ts)],
)
