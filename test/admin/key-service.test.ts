/**
 * The key services (src/admin/keys.ts) called directly, without HTTP: what each role may do
 * to keys, and above all what a project admin of alpha cannot do to beta's keys, which must
 * leave them exactly as they were.
 */
import { expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { apiKeys } from '../../src/db/schema'
import { adminAudit } from '../../src/db/schema-admin'
import { createKey, getKey, listKeys, revokeKey, updateKey } from '../../src/admin/keys'
import { refusal, serviceFixture } from './fixture'

const f = serviceFixture()

const row = async (id: string) => (await f.ctx.db.select().from(apiKeys).where(eq(apiKeys.id, id)))[0]!
const audits = async () => (await f.ctx.db.select().from(adminAudit)).length

test("alpha's project admin cannot touch beta's keys, and nothing changes", async () => {
  const pa = f.as('pa')
  const before = { kbeta: await row(f.ids.kbeta), kother: await row(f.ids.kother), keys: (await f.ctx.db.select().from(apiKeys)).length, audits: await audits() }
  expect(await refusal(createKey(f.ctx, pa, { project: 'beta', user: null }))).toBe('404 not_found')
  expect(await refusal(createKey(f.ctx, pa, { project: 'beta', user: 'other' }))).toBe('404 not_found')
  expect(await refusal(revokeKey(f.ctx, pa, f.ids.kbeta))).toBe('404 not_found')
  expect(await refusal(revokeKey(f.ctx, pa, f.ids.kother))).toBe('404 not_found')
  expect(await refusal(updateKey(f.ctx, pa, f.ids.kbeta, { name: 'mine now', expires_at: null }))).toBe('404 not_found')
  expect(await refusal(getKey(f.ctx, pa, f.ids.kother))).toBe('404 not_found')
  expect(await refusal(listKeys(f.ctx, pa, { project: 'beta' }))).toBe('404 not_found')
  // Naming a user of beta on an alpha key is refused too: keys are for the project's members.
  expect(await refusal(createKey(f.ctx, pa, { project: 'alpha', user: 'other' }))).toBe('400 invalid_request')
  // And beta's provider is not alpha's to put on a key.
  expect(await refusal(createKey(f.ctx, pa, { project: 'alpha', user: null, providers: ['beta-openai'] }))).toBe('400 invalid_request')
  expect(await row(f.ids.kbeta)).toEqual(before.kbeta)
  expect(await row(f.ids.kother)).toEqual(before.kother)
  expect((await f.ctx.db.select().from(apiKeys)).length).toBe(before.keys)
  expect(await audits()).toBe(before.audits)
  // The unfiltered list shows alpha's keys only.
  const seen = (await listKeys(f.ctx, pa, {})).map((k) => k.project)
  expect(seen.length).toBeGreaterThan(0)
  expect(seen.filter((p) => p !== 'alpha')).toEqual([])
})

test("a member makes personal keys only, and cannot extend a key's expiry", async () => {
  const mem = f.as('mem')
  expect(await refusal(createKey(f.ctx, mem, { project: 'alpha', user: null }))).toBe('403 forbidden')
  expect(await refusal(createKey(f.ctx, mem, { project: 'alpha', user: 'pa' }))).toBe('403 forbidden')
  const soon = Date.now() + 3_600_000
  const made = await createKey(f.ctx, mem, { project: 'alpha', name: 'ci', expires_at: soon })
  expect(made.key).toMatchObject({ project: 'alpha', user: 'mem', status: 'active', expires_at: soon })
  expect(made.secret).toStartWith('tg')
  expect(await refusal(updateKey(f.ctx, mem, made.key.id, { expires_at: soon + 1000 }))).toBe('403 forbidden')
  expect(await refusal(updateKey(f.ctx, mem, made.key.id, { expires_at: null }))).toBe('403 forbidden')
  expect((await updateKey(f.ctx, mem, made.key.id, { expires_at: soon - 1000, name: 'ci-2' })).expires_at).toBe(soon - 1000)
  // mem cannot see the project key of alpha, only their own.
  expect(await refusal(revokeKey(f.ctx, mem, f.ids.kalpha))).toBe('404 not_found')
})

test('revoking is once: the second call changes nothing and writes no second audit entry', async () => {
  const pa = f.as('pa')
  const made = await createKey(f.ctx, pa, { project: 'alpha', user: null, name: 'to revoke' })
  const first = await revokeKey(f.ctx, pa, made.key.id)
  expect(first.status).toBe('revoked')
  const n = await audits()
  const again = await revokeKey(f.ctx, pa, made.key.id)
  expect(again.revoked_at).toBe(first.revoked_at)
  expect(await audits()).toBe(n)
  expect((await listKeys(f.ctx, pa, { project: 'alpha' })).map((k) => k.id)).not.toContain(made.key.id)
  expect((await listKeys(f.ctx, pa, { project: 'alpha', include_revoked: true })).map((k) => k.id)).toContain(made.key.id)
})

test('keys from config.toml are read-only, even to an org admin', async () => {
  const root = f.as('root')
  const cfg = (await listKeys(f.ctx, root, {})).find((k) => k.source === 'config')
  expect(cfg).toBeDefined()
  expect(await refusal(revokeKey(f.ctx, root, cfg!.id))).toBe('409 from_config')
  expect(await refusal(updateKey(f.ctx, root, cfg!.id, { name: 'x' }))).toBe('409 from_config')
})
