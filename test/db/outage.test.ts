/**
 * A database outage on libSQL: another process holds the database file's write lock for 6 s
 * mid-load (as a backup, a shell or a long migration would), so every write of the gateway's
 * writer fails with SQLITE_BUSY after its busy timeout. Afterwards every 2xx a client got has
 * its settled ledger row and its request-log row, no reservation is open, no row was dropped;
 * once the queue is at its bound, new requests get the native 503 and never reach the upstream.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { drained, expectNothingLost, expectOutageRecovered, loadThroughOutage, startOutageGateway, type OutageGateway, type OutageRun } from '../support/db-outage'

const dir = mkdtempSync(join(tmpdir(), 'tg-outage-'))
let o: OutageGateway | undefined
afterAll(async () => {
  await o?.stop()
  rmSync(dir, { recursive: true, force: true })
}, 30_000)

/** Another process takes the write lock on `file` and holds it `ms`; resolves once it is taken. */
async function holdWriteLock(file: string, ms: number): Promise<Promise<number>> {
  const script = `const D = require('libsql'); const d = new D(${JSON.stringify(file)}, { timeout: 5000 }); d.exec('BEGIN IMMEDIATE'); console.log('locked'); setTimeout(() => { d.exec('COMMIT'); d.close() }, ${ms})`
  const p = Bun.spawn([process.execPath, '-e', script], { cwd: join(import.meta.dir, '../..'), stdout: 'pipe', stderr: 'inherit' })
  const reader = p.stdout.getReader()
  const { value } = await reader.read()
  expect(new TextDecoder().decode(value)).toContain('locked')
  return p.exited
}

test('the database file locked for 6 s under load: nothing served is lost, nothing left open; a full queue answers 503', async () => {
  const file = join(dir, 'outage.db')
  // ~2 rows a request (ledger, log): the bound is reached a few seconds into the outage.
  o = await startOutageGateway(`file:${file}`, 400)
  const errors: string[] = []
  const error = console.error
  console.error = (...a: unknown[]) => void errors.push(a.map(String).join(' '))
  let run: OutageRun | undefined
  try {
    run = await loadThroughOutage(o.url, 6, async () => {
      await Bun.sleep(2000)
      const released = await holdWriteLock(file, 6000)
      expect(await released).toBe(0)
    })
    await drained(o.gw)
  } finally {
    console.error = error
  }
  // Served before the queue filled, refused while it was full, served again after the lock went.
  await expectOutageRecovered(o, run!)
  expect(o.gw.writer.failures).toBeGreaterThan(0)
  expect(errors.some((l) => l.includes('SQLITE_BUSY'))).toBe(true)
  expect(errors.some((l) => l.includes('new requests get 503'))).toBe(true)
  const metrics = await o.gw.telemetry.metrics.render()
  expect(metrics).toMatch(/tollgate_db_write_failures_total\{kind="unavailable"\} [1-9]/)
  expect(metrics).toContain('tollgate_db_write_queue_rows 0')
}, 70_000)
