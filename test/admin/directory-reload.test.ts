/**
 * A SIGHUP reload with admin-created entities (gateway.reload → Directory.replaceFile): the new
 * config.toml is merged at once though no table changed, and a file whose id clashes with a
 * database entity is refused with the old file, merge and routing left in force.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { ConfigError, parseConfig } from '../../src/config/load'
import { adminToml, buildFixture, type Fixture } from './fixture'

let fx: Fixture
const V = '/admin/api/v1'

beforeAll(async () => {
  fx = await buildFixture()
})
afterAll(async () => {
  await fx.close()
})

/** The fixture's config.toml plus `extra`, on the fixture's database. */
async function file(extra: string) {
  const db = fx.gw.config.database.url
  return parseConfig(`${adminToml(extra)}\n\n[database]\nurl = "${db}"\n\n[log]\nflush_interval_ms = 20\n`, 'test.toml', process.env)
}

const projectIds = () => fx.gw.admin!.ctx.dir.projects().map((p) => `${p.id}:${p.source}`)

test('a project added to config.toml is merged at once, beside the database projects', async () => {
  expect(projectIds()).not.toContain('gamma:config')
  await fx.gw.reload(await file('[[projects]]\nid = "gamma"\n'))
  expect(projectIds()).toEqual(expect.arrayContaining(['default:config', 'gamma:config', 'alpha:db', 'beta:db']))
  expect(fx.gw.admin!.ctx.dir.merged.projects.map((p) => p.id)).toContain('gamma')
  // The API shows it, read-only, with the database's projects.
  const r = await fx.api('org', 'GET', `${V}/projects/gamma`)
  expect(r.json.source).toBe('config')
})

test('a config.toml that takes a database id is refused, and the old file stays in force', async () => {
  const dir = fx.gw.admin!.ctx.dir
  const before = { file: dir.file, merged: dir.merged, projects: projectIds() }
  let error: unknown
  try {
    await fx.gw.reload(await file('[[projects]]\nid = "gamma"\n\n[[projects]]\nid = "alpha"\n'))
  } catch (e) {
    error = e
  }
  expect(error).toBeInstanceOf(ConfigError)
  expect(String((error as Error).message)).toContain('alpha')
  expect(dir.file).toBe(before.file)
  expect(dir.merged).toBe(before.merged)
  expect(projectIds()).toEqual(before.projects)
  // The next periodic reload still merges the old file: alpha stays the database's project.
  await dir.reload()
  expect(projectIds()).toEqual(before.projects)
  expect((await fx.api('org', 'GET', `${V}/projects/alpha`)).json.source).toBe('db')
})
