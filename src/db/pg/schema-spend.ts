/** PostgreSQL mirror of src/db/schema-spend.ts (see ./schema.ts for why it only feeds migrations). */
import { sql } from 'drizzle-orm'
import { bigint, boolean, index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core'

export const spendLedger = pgTable(
  'spend_ledger',
  {
    id: text('id').primaryKey(),
    requestId: text('request_id').notNull(),
    ts: bigint('ts', { mode: 'number' }).notNull(),
    keyId: text('key_id').notNull(),
    project: text('project').notNull(),
    user: text('user'),
    provider: text('provider'),
    model: text('model'),
    state: text('state', { enum: ['reserved', 'settled', 'released', 'recovered'] }).notNull(),
    reservedNanos: bigint('reserved_nanos', { mode: 'number' }).notNull(),
    costNanos: bigint('cost_nanos', { mode: 'number' }).notNull().default(0),
    providerCostNanos: bigint('provider_cost_nanos', { mode: 'number' }).notNull().default(0),
    managed: boolean('managed').notNull().default(false),
    estimated: boolean('estimated').notNull().default(false),
    unpriced: boolean('unpriced').notNull().default(false),
    settledAt: bigint('settled_at', { mode: 'number' }),
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

export const creditLedger = pgTable(
  'credit_ledger',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    project: text('project').notNull(),
    ts: bigint('ts', { mode: 'number' }).notNull(),
    kind: text('kind', { enum: ['topup', 'usage'] }).notNull(),
    amountNanos: bigint('amount_nanos', { mode: 'number' }).notNull(),
    ledgerId: text('ledger_id'),
    note: text('note'),
  },
  (t) => [
    index('credit_ledger_project').on(t.project, t.kind),
    index('credit_ledger_kind').on(t.kind, t.project, t.amountNanos),
    index('credit_ledger_kind_ts').on(t.kind, t.ts),
    uniqueIndex('credit_ledger_usage_ledger_id').on(t.ledgerId).where(sql`kind = 'usage'`),
  ],
)

export const spendTotals = pgTable('spend_totals', {
  keyId: text('key_id').notNull(),
  user: text('user'),
  project: text('project').notNull(),
  uptoTs: bigint('upto_ts', { mode: 'number' }).notNull(),
  costNanos: bigint('cost_nanos', { mode: 'number' }).notNull(),
})

export const creditTotals = pgTable('credit_totals', {
  project: text('project').notNull(),
  uptoTs: bigint('upto_ts', { mode: 'number' }).notNull(),
  usedNanos: bigint('used_nanos', { mode: 'number' }).notNull(),
})
