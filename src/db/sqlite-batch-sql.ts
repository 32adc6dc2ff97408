/**
 * The batched writer's statement text on libSQL (both sinks: src/db/writer-worker.ts and
 * src/db/libsql-file-sink.ts). A TableSpec's verb is SQLite's own, except one case:
 * `INSERT OR IGNORE INTO` with a `conflict` key becomes `INSERT INTO … ON CONFLICT (key)
 * [WHERE …] DO NOTHING`, so only a duplicate of that key is skipped (OR IGNORE would also
 * skip, unlogged, a row breaking NOT NULL). A partial unique index is only matched by a
 * target that repeats its WHERE, on SQLite as on PostgreSQL (src/db/pg/batch-sql.ts).
 */
import type { WriteBatch } from './types'

export function isTargetedIgnore(b: Pick<WriteBatch, 'verb' | 'conflict'>): boolean {
  return !!b.conflict?.length && b.verb.trim().toUpperCase().replace(/\s+/g, ' ') === 'INSERT OR IGNORE INTO'
}

/** ` ON CONFLICT ("key") WHERE … DO NOTHING`, with the columns quoted as given. */
export function conflictTarget(b: Pick<WriteBatch, 'conflict' | 'conflictWhere'>, quote: (c: string) => string = (c) => c): string {
  return ` ON CONFLICT (${b.conflict!.map(quote).join(', ')})${b.conflictWhere ? ` WHERE ${b.conflictWhere}` : ''} DO NOTHING`
}

/** The INSERT of `rows` rows of `b` (placeholders `?`). */
export function sqliteInsert(b: WriteBatch, rows: number): string {
  const targeted = isTargetedIgnore(b)
  const tuple = `(${b.columns.map(() => '?').join(',')})`
  return `${targeted ? 'INSERT INTO' : b.verb} ${b.table} (${b.columns.join(', ')}) VALUES ${Array(rows).fill(tuple).join(',')}${targeted ? conflictTarget(b) : ''}`
}
