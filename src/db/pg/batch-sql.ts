/**
 * The batched writer's statements in PostgreSQL's dialect. Callers describe rows in
 * SQLite's words (src/db/batch-writer.ts TableSpec); here they become:
 * - `INSERT OR IGNORE INTO t …`  → `INSERT INTO t … ON CONFLICT DO NOTHING`
 * - `INSERT OR REPLACE INTO t …` → `INSERT INTO t … ON CONFLICT (key) DO UPDATE SET c = EXCLUDED.c, …`
 *   with only the last row per key kept: PostgreSQL refuses to update one row twice in a
 *   statement, and in SQLite the later row would have replaced the earlier one anyway.
 * Column names are quoted (`user` is reserved in PostgreSQL).
 */
import type { WriteBatch } from '../types'

export interface PgStatement {
  text: string
  args: unknown[]
}

/** Bound values per statement: PostgreSQL's limit is 65535; stay well below. */
const MAX_VALUES = 8000

type Verb = 'insert' | 'ignore' | 'replace'

function verbOf(verb: string): Verb {
  const v = verb.trim().toUpperCase().replace(/\s+/g, ' ')
  if (v === 'INSERT INTO') return 'insert'
  if (v === 'INSERT OR IGNORE INTO') return 'ignore'
  if (v === 'INSERT OR REPLACE INTO') return 'replace'
  throw new Error(`batch writer: no PostgreSQL form for "${verb}"`)
}

export function quoteIdent(name: string): string {
  return /^".*"$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`
}

/** The last row for each key, in the order those last rows came. */
function lastPerKey(rows: unknown[][], keyAt: number[]): unknown[][] {
  const keyOf = (r: unknown[]) => JSON.stringify(keyAt.map((k) => r[k]))
  const last = new Map<string, number>()
  rows.forEach((r, i) => last.set(keyOf(r), i))
  return last.size === rows.length ? rows : rows.filter((r, i) => last.get(keyOf(r)) === i)
}

export function pgStatements(batches: WriteBatch[], maxValues = MAX_VALUES): PgStatement[] {
  const out: PgStatement[] = []
  for (const b of batches) {
    const verb = verbOf(b.verb)
    const cols = b.columns.map(quoteIdent)
    let rows = b.rows
    let tail = ''
    if (verb === 'ignore') tail = ' ON CONFLICT DO NOTHING'
    if (verb === 'replace') {
      const key = (b.conflict ?? cols.slice(0, 1)).map(quoteIdent)
      const keyAt = key.map((k) => cols.indexOf(k))
      if (keyAt.some((i) => i < 0)) throw new Error(`batch writer: conflict key ${key.join(', ')} is not among the columns of ${b.table}`)
      rows = lastPerKey(rows, keyAt)
      const set = cols.filter((c) => !key.includes(c)).map((c) => `${c} = EXCLUDED.${c}`)
      tail = set.length ? ` ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${set.join(', ')}` : ' ON CONFLICT DO NOTHING'
    }
    const width = cols.length
    const per = Math.max(1, Math.floor(maxValues / width))
    const head = `INSERT INTO ${quoteIdent(b.table)} (${cols.join(', ')}) VALUES `
    for (let i = 0; i < rows.length; i += per) {
      const slice = rows.slice(i, i + per)
      let n = 0
      const tuples = slice.map(() => `(${Array.from({ length: width }, () => `$${++n}`).join(',')})`)
      out.push({ text: head + tuples.join(',') + tail, args: slice.flat() })
    }
  }
  return out
}
