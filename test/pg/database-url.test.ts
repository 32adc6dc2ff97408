/** Which engine a `database.url` selects, and how the start-up line prints it (never with credentials). */
import { expect, test } from 'bun:test'
import { describeDatabaseUrl, engineOf } from '../../src/db/client'
import { dollarParams } from '../../src/db/pg/database'

test('postgres:// and postgresql:// select PostgreSQL; everything else stays libSQL', () => {
  expect(engineOf('postgres://u:p@db.internal:5432/tollgate')).toBe('postgres')
  expect(engineOf('postgresql://db.internal/tollgate?sslmode=require')).toBe('postgres')
  for (const u of ['file:data/tollgate.db', 'libsql://tollgate-org.turso.io', 'https://libsql.internal:8080', 'wss://libsql.internal', ':memory:']) expect(engineOf(u)).toBe('libsql')
})

test('the printed URL has no user, password or query', () => {
  expect(describeDatabaseUrl('postgres://tollgate:s3cr3t@db.internal:5432/tollgate?sslmode=require&password=x')).toBe('postgres://db.internal:5432/tollgate')
  expect(describeDatabaseUrl('postgresql://tollgate:p%40ss@10.0.0.5/tg')).toBe('postgresql://10.0.0.5/tg')
  expect(describeDatabaseUrl('libsql://tollgate-org.turso.io?authToken=abc')).toBe('libsql://tollgate-org.turso.io')
  expect(describeDatabaseUrl('file:data/tollgate.db')).toBe('file:data/tollgate.db')
  // Not a URL the parser accepts: still nothing before the last `@`.
  expect(describeDatabaseUrl('postgres://user:pa ss@host:99999/db')).toBe('postgres://host:99999/db')
})

test('libSQL `?` placeholders become $n, leaving quoted text alone', () => {
  expect(dollarParams(`SELECT '?', "a?" FROM t WHERE a = ? AND b = ?`)).toBe(`SELECT '?', "a?" FROM t WHERE a = $1 AND b = $2`)
})
