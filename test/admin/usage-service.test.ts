/**
 * The usage services (src/admin/usage.ts) called directly, without HTTP, on the fixture's
 * request log: alpha 1500 + 700 nanos (mem's key and alpha's project key), beta one 429 at 0.
 * Each caller's totals count only what they may read; naming what they may not is a 404.
 */
import { expect, test } from 'bun:test'
import { usageSeries, usageSummary } from '../../src/admin/usage'
import { refusal, serviceFixture } from './fixture'

const f = serviceFixture()

test('each caller totals only the rows they may read', async () => {
  const totals = async (user: string) => {
    const s = await usageSummary(f.ctx, f.as(user), {})
    return { spend: s.day.spend_nanos, requests: s.day.requests, errors: s.day.errors }
  }
  expect(await totals('root')).toEqual({ spend: 2200, requests: 3, errors: 1 })
  expect(await totals('pa')).toEqual({ spend: 2200, requests: 2, errors: 0 })
  expect(await totals('mem')).toEqual({ spend: 1500, requests: 1, errors: 0 })
  expect(await totals('other')).toEqual({ spend: 0, requests: 1, errors: 1 })
  // The month holds the day.
  expect((await usageSummary(f.ctx, f.as('root'), {})).month.spend_nanos).toBeGreaterThanOrEqual(2200)
})

test("alpha's project admin cannot read beta's usage by naming it", async () => {
  const pa = f.as('pa')
  expect(await refusal(usageSummary(f.ctx, pa, { project: 'beta' }))).toBe('404 not_found')
  expect(await refusal(usageSummary(f.ctx, pa, { key: f.ids.kother }))).toBe('404 not_found')
  expect(await refusal(usageSummary(f.ctx, pa, { user: 'other' }))).toBe('404 not_found')
  expect(await refusal(usageSeries(f.ctx, pa, { project: 'beta' }))).toBe('404 not_found')
  expect(await refusal(usageSeries(f.ctx, pa, { key: f.ids.kbeta }))).toBe('404 not_found')
  // A member cannot read alpha's project key, though it is in their project.
  expect(await refusal(usageSummary(f.ctx, f.as('mem'), { key: f.ids.kalpha }))).toBe('404 not_found')
})

test('a series groups what the caller may read, and the limits of the one scope it names', async () => {
  const now = Date.now()
  const root = await usageSeries(f.ctx, f.as('root'), { group: 'project', bucket: 'hour', from: now - 3_600_000 * 3, to: now + 60_000 })
  const byProject = (s: typeof root) => Object.fromEntries(s.points.map((x) => [x.group, x.spend_nanos]))
  expect(byProject(root)).toEqual({ alpha: 2200, beta: 0 })
  expect(root.starts.length).toBeGreaterThanOrEqual(3)
  const pa = await usageSeries(f.ctx, f.as('pa'), { group: 'project', bucket: 'hour', from: now - 3_600_000 * 3, to: now + 60_000 })
  expect(byProject(pa)).toEqual({ alpha: 2200 })
  const keys = await usageSeries(f.ctx, f.as('pa'), { group: 'key', from: now - 86_400_000, to: now + 60_000 })
  expect(keys.points.map((x) => x.group).sort()).toEqual([f.ids.kalpha, f.ids.kmem].sort())
  expect((await usageSummary(f.ctx, f.as('pa'), { key: f.ids.kmem })).limits).toEqual({ daily_nanos: null, weekly_nanos: null, monthly_nanos: null, total_nanos: null })
  expect((await usageSummary(f.ctx, f.as('root'), {})).limits).toBeNull()
})

test('a series refuses an empty range and too many buckets', async () => {
  const now = Date.now()
  expect(await refusal(usageSeries(f.ctx, f.as('root'), { from: now, to: now }))).toBe('400 invalid_request')
  expect(await refusal(usageSeries(f.ctx, f.as('root'), { bucket: 'minute', from: now - 3 * 86_400_000, to: now }))).toBe('400 invalid_request')
})
