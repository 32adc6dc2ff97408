/**
 * Spend tables. Money is integer nano-dollars; times are epoch milliseconds.
 * Both are ledgers: rows are added (and a reservation row settled once), never a running total.
 */
import { sql } from 'drizzle-orm'
import { sqliteTable, text, integer, index, uniqueIndex } from 'drizzle-orm/sqlite-core'

/**
 * One row per client request that reserved budget, plus one per billed failed attempt.
 * Written ahead as `reserved` (batched), then settled in place: `settled`, `released`,
 * or `recovered` (a crash left it open; see src/spend/recovery.ts).
 */
export const spendLedger = sqliteTable(
  'spend_ledger',
  {
    /** The request id, or `<request id>#<attempt>` for a billed failed attempt. */
    id: text('id').primaryKey(),
    requestId: text('request_id').notNull(),
    /** Reservation time: the row counts in the windows this instant falls in. */
    ts: integer('ts').notNull(),
    keyId: text('key_id').notNull(),
    project: text('project').notNull(),
    user: text('user'),
    provider: text('provider'),
    model: text('model'),
    state: text('state', { enum: ['reserved', 'settled', 'released', 'recovered'] }).notNull(),
    reservedNanos: integer('reserved_nanos').notNull(),
    /** What counts against limits (markup included on managed providers); 0 while reserved. */
    costNanos: integer('cost_nanos').notNull().default(0),
    /** The provider's own price before markup. */
    providerCostNanos: integer('provider_cost_nanos').notNull().default(0),
    /** Drawn from the project's credits (managed providers only). */
    managed: integer('managed', { mode: 'boolean' }).notNull().default(false),
    /** The cost was estimated (a disconnect or cut stream without the provider's usage). */
    estimated: integer('estimated', { mode: 'boolean' }).notNull().default(false),
    /** Usage could not be priced (pricing.unknown_model = "allow"). */
    unpriced: integer('unpriced', { mode: 'boolean' }).notNull().default(false),
    settledAt: integer('settled_at'),
    /** Why it ended as it did: client_disconnected, upstream_error, attempt, crash, … */
    note: text('note'),
    /** The cluster instance that wrote the reservation (null: one process); the start-up sweep leaves live instances' rows alone. */
    instance: text('instance'),
  },
  (t) => [
    index('spend_ledger_ts').on(t.ts),
    index('spend_ledger_state').on(t.state),
    index('spend_ledger_key_ts').on(t.keyId, t.ts),
    index('spend_ledger_project_ts').on(t.project, t.ts),
  ],
)

/** Prepaid credits per project: top-ups (positive) and usage (negative). The balance is the sum. */
export const creditLedger = sqliteTable(
  'credit_ledger',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    project: text('project').notNull(),
    ts: integer('ts').notNull(),
    kind: text('kind', { enum: ['topup', 'usage'] }).notNull(),
    amountNanos: integer('amount_nanos').notNull(),
    /** The spend_ledger row a usage entry settles. */
    ledgerId: text('ledger_id'),
    note: text('note'),
  },
  // The second serves the top-up refresh (src/spend/counters.ts loadTopups) without reading usage
  // rows; the third, start-up's read of the usage after the checkpoint (src/spend/checkpoint.ts).
  // The last makes a usage row idempotent per spend_ledger row: a batch the writer re-sends after
  // a lost COMMIT, or a sweep racing a settlement, cannot charge a request twice.
  (t) => [
    index('credit_ledger_project').on(t.project, t.kind),
    index('credit_ledger_kind').on(t.kind, t.project, t.amountNanos),
    index('credit_ledger_kind_ts').on(t.kind, t.ts),
    uniqueIndex('credit_ledger_usage_ledger_id').on(t.ledgerId).where(sql`kind = 'usage'`),
  ],
)

/**
 * The ledger's settled past in one row per (key, user, project): what every row reserved before
 * `upto_ts` cost, so start-up reads only the rows after it and those of the current windows
 * (src/spend/checkpoint.ts). Rewritten whole, in one transaction, each time it moves on; its
 * rows all carry the same `upto_ts`, and a row with an empty key_id and project marks a
 * checkpoint even when nothing was spent before it.
 */
export const spendTotals = sqliteTable('spend_totals', {
  keyId: text('key_id').notNull(),
  user: text('user'),
  project: text('project').notNull(),
  uptoTs: integer('upto_ts').notNull(),
  costNanos: integer('cost_nanos').notNull(),
})

/** The credit ledger's usage before the same `upto_ts`, per project (the marker row's project is empty). */
export const creditTotals = sqliteTable('credit_totals', {
  project: text('project').notNull(),
  uptoTs: integer('upto_ts').notNull(),
  usedNanos: integer('used_nanos').notNull(),
})
