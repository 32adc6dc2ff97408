/**
 * One setup link at a time per database: instances starting on one empty shared database
 * (a cluster) print one valid link between them, on libSQL and on PostgreSQL. A used or
 * expired first-start link makes room for a new one.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/load'
import { createGateway, type Gateway } from '../../src/gateway'
import { openDatabase } from '../../src/db/client'
import { createFirstStartLink, pendingSetup, SETUP_TTL_MS, consumeSetup } from '../../src/admin/setup'
import { createTestDatabase, dropTestDatabase, skipWithoutPostgres } from '../support/postgres'
import { SECRET_KEY } from './fixture'

const dirs: string[] = []
const pgUrls: string[] = []
afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
  for (const u of pgUrls) await dropTestDatabase(u)
})

async function instance(url: string): Promise<{ gw: Gateway; lines: string[] }> {
  const lines: string[] = []
  const loaded = await parseConfig(`[secrets]\nkey = "${SECRET_KEY}"\n[admin]\npublic_url = "http://gw.test:8787"\n[database]\nurl = "${url}"\n`, 'config.toml', {})
  const gw = await createGateway(loaded, { announce: (l) => void lines.push(l) })
  return { gw, lines }
}

const tokenIn = (lines: string[]) => lines.map((l) => /token=(tgs_\S+)/.exec(l)?.[1]).find(Boolean)

async function suite(url: () => Promise<string>) {
  test('two instances starting on one empty database print one valid link between them', async () => {
    const u = await url()
    const a = await instance(u)
    const b = await instance(u)
    try {
      const links = [tokenIn(a.lines), tokenIn(b.lines)].filter(Boolean)
      expect(links.length).toBe(1)
      expect(b.lines.join('\n')).toContain('still pending')
      expect(await pendingSetup(a.gw.database.db, links[0]!, Date.now())).toBeDefined()
    } finally {
      await a.gw.close()
      await b.gw.close()
    }
  })

  test('racing connections: exactly one first-start link is made; a used or expired one makes room', async () => {
    const u = await url()
    const first = await instance(u)
    await first.gw.close()
    const conns = await Promise.all([openDatabase(u), openDatabase(u), openDatabase(u)])
    try {
      const db = conns[0]!.db
      const token = tokenIn(first.lines)!
      const row = (await pendingSetup(db, token, Date.now()))!
      // Still pending: nobody else gets one, however many race.
      const raced = await Promise.all(conns.flatMap((c) => [createFirstStartLink(c.db, 'http://x'), createFirstStartLink(c.db, 'http://x')]))
      expect(raced.filter(Boolean)).toEqual([])
      // Used: the next start may print a new one, and only one start does.
      expect(await consumeSetup(db, row.id, 'admin', Date.now())).toBe(true)
      const again = await Promise.all(conns.map((c) => createFirstStartLink(c.db, 'http://x')))
      expect(again.filter(Boolean).length).toBe(1)
      // Expired: likewise.
      const later = Date.now() + SETUP_TTL_MS + 1
      const afterExpiry = await Promise.all(conns.map((c) => createFirstStartLink(c.db, 'http://x', later)))
      expect(afterExpiry.filter(Boolean).length).toBe(1)
    } finally {
      for (const c of conns) await c.close()
    }
  })
}

describe('libSQL', () => {
  suite(async () => {
    const d = mkdtempSync(join(tmpdir(), 'tollgate-setup-once-'))
    dirs.push(d)
    return `file:${join(d, 't.db')}`
  })
})

const noPg = skipWithoutPostgres('setup link once on PostgreSQL')
describe.skipIf(!!noPg)('PostgreSQL', () => {
  suite(async () => {
    const u = await createTestDatabase()
    pgUrls.push(u)
    return u
  })
})
