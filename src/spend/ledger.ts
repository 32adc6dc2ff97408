/**
 * The spend ledger's writer. Nothing on the request path waits for the database: rows are
 * queued in memory and handed every `limits.ledger_flush_ms` to the gateway's off-thread
 * batch writer (src/db/batch-writer.ts), which writes them in one transaction.
 *
 * Write-ahead rule: a reservation's row is queued before the request goes upstream, and its
 * settlement replaces it in the queue (the latest state of a row wins; rows are written with
 * INSERT OR REPLACE, in order), so the database never holds a settlement without its
 * reservation. After a kill -9:
 * - a row written as `reserved` and never settled is swept at the next start (recovery.ts);
 * - rows not yet written at the crash (at most about one flush interval of traffic) are lost
 *   whole, reservation and settlement together: neither charged nor left open.
 */
import type { BatchWriter, TableSpec } from '../db/batch-writer'
import type { creditLedger, spendLedger } from '../db/schema-spend'

export type LedgerRow = typeof spendLedger.$inferInsert
export type CreditRow = typeof creditLedger.$inferInsert

const LEDGER_COLUMNS = [
  ['id', 'id'],
  ['request_id', 'requestId'],
  ['ts', 'ts'],
  ['key_id', 'keyId'],
  ['project', 'project'],
  ['user', 'user'],
  ['provider', 'provider'],
  ['model', 'model'],
  ['state', 'state'],
  ['reserved_nanos', 'reservedNanos'],
  ['cost_nanos', 'costNanos'],
  ['provider_cost_nanos', 'providerCostNanos'],
  ['managed', 'managed'],
  ['estimated', 'estimated'],
  ['unpriced', 'unpriced'],
  ['settled_at', 'settledAt'],
  ['note', 'note'],
  ['instance', 'instance'],
] as const satisfies readonly (readonly [string, keyof LedgerRow])[]

const CREDIT_COLUMNS = [
  ['project', 'project'],
  ['ts', 'ts'],
  ['kind', 'kind'],
  ['amount_nanos', 'amountNanos'],
  ['ledger_id', 'ledgerId'],
  ['note', 'note'],
] as const satisfies readonly (readonly [string, keyof CreditRow])[]

const LEDGER_SPEC: TableSpec = { verb: 'INSERT OR REPLACE INTO', table: 'spend_ledger', columns: LEDGER_COLUMNS.map((c) => `"${c[0]}"`) }
const CREDIT_SPEC: TableSpec = { verb: 'INSERT INTO', table: 'credit_ledger', columns: CREDIT_COLUMNS.map((c) => `"${c[0]}"`) }
/**
 * A usage row is written at most once per spend_ledger row (the unique index
 * credit_ledger_usage_ledger_id): the writer re-sends a batch whose COMMIT it did not hear
 * back, and the second copy must not charge the project again.
 */
export const USAGE_CONFLICT = "kind = 'usage'"
const USAGE_SPEC: TableSpec = { ...CREDIT_SPEC, verb: 'INSERT OR IGNORE INTO', conflict: ['"ledger_id"'], conflictWhere: USAGE_CONFLICT }

const DEFAULTS: Partial<LedgerRow> = { costNanos: 0, providerCostNanos: 0, managed: false, estimated: false, unpriced: false }

function values<R>(row: R, cols: readonly (readonly [string, keyof R])[]): unknown[] {
  return cols.map(([, k]) => {
    const v = row[k] ?? (DEFAULTS as Record<string, unknown>)[k as string] ?? null
    return typeof v === 'boolean' ? (v ? 1 : 0) : v
  })
}

export class LedgerWriter {
  private pending = new Map<string, LedgerRow>()
  private credits: CreditRow[] = []
  private timer: ReturnType<typeof setInterval> | undefined
  /** In a cluster, this instance's id, stamped on every row it writes (the start-up sweep of another instance leaves them alone while it lives). */
  instance: string | null = null

  constructor(
    private readonly writer: BatchWriter,
    private intervalMs: number,
  ) {}

  start(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = setInterval(() => void this.flush().catch(() => {}), this.intervalMs)
    this.timer.unref?.()
  }

  setInterval(ms: number): void {
    if (ms === this.intervalMs) return
    this.intervalMs = ms
    if (this.timer) this.start()
  }

  /** Queues a row's latest state (a new reservation, or its settlement). */
  put(row: LedgerRow): void {
    if (this.instance && row.instance === undefined) row.instance = this.instance
    this.pending.set(row.id, row)
  }

  credit(row: CreditRow): void {
    this.credits.push(row)
  }

  /** Hands everything queued to the batch writer and resolves once it is durable. */
  flush(): Promise<void> {
    if (this.pending.size || this.credits.length) {
      for (const r of this.pending.values()) this.writer.insert(LEDGER_SPEC, values(r, LEDGER_COLUMNS))
      for (const c of this.credits) this.writer.insert(c.kind === 'usage' ? USAGE_SPEC : CREDIT_SPEC, values(c, CREDIT_COLUMNS))
      this.pending = new Map()
      this.credits = []
    }
    return this.writer.flush()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.flush()
  }
}
