/** The query thread when its file cannot be opened: every query fails with the reason, none hangs. */
import { expect, test } from 'bun:test'
import { apiKeys } from '../../src/db/schema'
import { offThreadDb } from '../../src/db/off-thread'

test('a file the query thread cannot open fails each query with the reason', async () => {
  const off = offThreadDb('/nonexistent-tollgate-dir/nested/x.db')
  try {
    // Not expect().rejects: bun:test never sees a promise that a Worker message settles.
    // drizzle wraps the thread's error ("Failed query: …") with it as the cause.
    const reason = async () => ((await off.db.select().from(apiKeys).then(() => undefined, (e: Error) => e))?.cause as Error | undefined)?.message
    expect(await reason()).toMatch(/^cannot open \/nonexistent-tollgate-dir\/nested\/x\.db: /)
    expect(await reason()).toMatch(/^cannot open /)
  } finally {
    await off.close().catch(() => {})
  }
})
