/**
 * The migration that makes credit usage rows unique per ledger_id (libSQL 0010, PostgreSQL
 * 0006) deletes the duplicates earlier versions could write: each was a request charged twice.
 * Before it runs, start-up counts them, so the operator hears how many and how much went back.
 */
import { formatUsd } from '../spend/money'

export function isUsageDedup(tag: string): boolean {
  return tag.endsWith('_credit_usage_once')
}

/** The rows the migration deletes (every usage row but the first per ledger_id), and their sum. */
export const DUPLICATE_USAGE_SQL =
  'SELECT count(*) AS n, coalesce(sum(amount_nanos), 0) AS nanos FROM credit_ledger WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY ledger_id ORDER BY id) AS n FROM credit_ledger' +
  " WHERE kind = 'usage' AND ledger_id IS NOT NULL) AS d WHERE n > 1)"

export function duplicateUsageNote(where: string, n: number, nanos: number): string | undefined {
  if (!n) return undefined
  return `database ${where}: removed ${n} duplicate credit usage row(s) (requests charged twice, ${formatUsd(-nanos)} in all, now back in the projects' balances)`
}
