/** Opens the libSQL database (embedded file or remote), applies pragmas and migrations. */
import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { createClient, type Client } from '@libsql/client'
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql'
import * as schema from './schema'
import { migrate } from './migrations'

export type Db = LibSQLDatabase<typeof schema>

export interface Database {
  db: Db
  client: Client
  url: string
  close(): void
}

export async function openDatabase(url: string, authToken?: string): Promise<Database> {
  if (url.startsWith('file:')) {
    const path = url.slice(5).split('?')[0]!
    if (path && path !== ':memory:') await mkdir(dirname(path), { recursive: true })
  }
  const client = createClient({ url, authToken })
  if (url.startsWith('file:')) {
    // WAL lets readers (CLI, /ready) run beside the batched writer; it persists in the file.
    await client.execute('PRAGMA journal_mode=WAL')
    await client.execute('PRAGMA busy_timeout=5000')
  }
  const db = drizzle(client, { schema })
  await migrate(db as unknown as LibSQLDatabase<Record<string, unknown>>)
  return { db, client, url, close: () => client.close() }
}

/** A URL safe to print: no credentials or tokens. */
export function describeDatabaseUrl(url: string): string {
  try {
    if (url.startsWith('file:')) return url
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname}`
  } catch {
    return url.split('?')[0]!
  }
}
