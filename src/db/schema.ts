/** Tables in libSQL. Money is integer nano-dollars (1e-9 USD); times are epoch milliseconds. */
import { sqliteTable, text, integer, index } from 'drizzle-orm/sqlite-core'

/** Gateway keys made by the CLI or API. Only the SHA-256 digest of the secret is stored. */
export const apiKeys = sqliteTable('api_keys', {
  id: text('id').primaryKey(),
  name: text('name'),
  project: text('project').notNull(),
  user: text('user'),
  keySha256: text('key_sha256').notNull().unique(),
  /** The first characters of the key, safe to show (prefix + id). */
  displayPrefix: text('display_prefix').notNull(),
  providers: text('providers', { mode: 'json' }).$type<string[]>(),
  models: text('models', { mode: 'json' }).$type<string[]>(),
  limitDailyNanos: integer('limit_daily_nanos'),
  limitWeeklyNanos: integer('limit_weekly_nanos'),
  limitMonthlyNanos: integer('limit_monthly_nanos'),
  limitTotalNanos: integer('limit_total_nanos'),
  /** Rate limits (src/ratelimit/): requests and tokens per minute, requests in flight; null = none. */
  rateRpm: integer('rate_rpm'),
  rateTpm: integer('rate_tpm'),
  rateConcurrency: integer('rate_concurrency'),
  expiresAt: integer('expires_at'),
  createdAt: integer('created_at').notNull(),
  revokedAt: integer('revoked_at'),
})

/**
 * Counters the database itself bumps: triggers on `api_keys` add one to the `api_keys` row on
 * every insert, update and delete, whoever writes (API, CLI, another instance, plain SQL), so
 * the key store's periodic refresh reads every key only when one changed.
 */
export const changeCounters = sqliteTable('change_counters', {
  name: text('name').primaryKey(),
  version: integer('version').notNull().default(0),
})

/** One row per client request, written in batches off the request path. */
export const requestLog = sqliteTable(
  'request_log',
  {
    id: text('id').primaryKey(),
    ts: integer('ts').notNull(),
    keyId: text('key_id'),
    project: text('project'),
    user: text('user'),
    provider: text('provider'),
    route: text('route'),
    api: text('api'),
    model: text('model'),
    method: text('method').notNull(),
    path: text('path').notNull(),
    stream: integer('stream', { mode: 'boolean' }).notNull().default(false),
    status: integer('status').notNull(),
    durationMs: integer('duration_ms').notNull(),
    ttfbMs: integer('ttfb_ms'),
    inputTokens: integer('input_tokens'),
    outputTokens: integer('output_tokens'),
    cacheReadTokens: integer('cache_read_tokens'),
    cacheWriteTokens: integer('cache_write_tokens'),
    /** The provider's usage object exactly as reported. */
    usage: text('usage', { mode: 'json' }),
    costNanos: integer('cost_nanos'),
    /** Gateway-side error code, or the upstream's status class. */
    error: text('error'),
    /** Each upstream try: [{ provider, status, error?, failedOver, ms }] (src/proxy/record.ts AttemptRecord). */
    attempts: text('attempts', { mode: 'json' }),
  },
  (t) => [index('request_log_ts').on(t.ts), index('request_log_key_ts').on(t.keyId, t.ts)],
)
