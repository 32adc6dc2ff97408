/** The merge of config.toml with admin-created entities (src/admin/merge.ts), as pure data. */
import { expect, test } from 'bun:test'
import { parseConfig } from '../../src/config/load'
import { idConflicts, mergeConfig, type DbEntities } from '../../src/admin/merge'

const file = (
  await parseConfig(
    `
[[providers]]
id = "cfg"
api = "openai"
api_key = "sk-config"
[[projects]]
id = "open"
[[projects]]
id = "listed"
providers = ["cfg"]
[[users]]
id = "u1"
projects = ["open"]
`,
    'c.toml',
    {},
  )
).config

const row = (id: string, project: string | null, extra: object = {}) => ({
  id,
  api: 'openai',
  baseUrl: null,
  project,
  keyCiphertext: 'v1:x:y',
  keyLast4: '0000',
  headers: null,
  enabled: true,
  createdAt: 0,
  ...extra,
})

const db: DbEntities = {
  projects: [
    { id: 'a', name: 'A', providers: null, limitDailyNanos: 2_000_000_000, limitWeeklyNanos: null, limitMonthlyNanos: null, limitTotalNanos: null, createdAt: 0 },
    { id: 'b', name: null, providers: ['owned-a', 'shared'], limitDailyNanos: null, limitWeeklyNanos: null, limitMonthlyNanos: null, limitTotalNanos: null, createdAt: 0 },
  ],
  users: [{ id: 'u2', email: 'u2@example.com', name: null, role: 'admin', limitDailyNanos: null, limitWeeklyNanos: 500_000_000, limitMonthlyNanos: null, limitTotalNanos: null, createdAt: 0, lastSeenAt: null, disabledAt: null }],
  memberships: [
    { project: 'a', userId: 'u1', role: 'member', createdAt: 0 },
    { project: 'a', userId: 'u2', role: 'admin', createdAt: 0 },
  ],
  providers: [
    { row: row('shared', null), apiKey: 'sk-shared' },
    { row: row('owned-a', 'a'), apiKey: 'sk-owned' },
    { row: row('undecryptable', null), apiKey: undefined },
  ],
}

test('database entities are appended; config ones are kept as they are', () => {
  const m = mergeConfig(file, db)
  expect(m.providers.map((p) => p.id)).toEqual(['cfg', 'shared', 'owned-a', 'undecryptable'])
  expect(m.providers[0]).toBe(file.providers[0]!)
  expect(m.providers.find((p) => p.id === 'shared')).toMatchObject({ api_key: 'sk-shared', enabled: true })
  // A credential that cannot be decrypted leaves its provider present but off.
  expect(m.providers.find((p) => p.id === 'undecryptable')).toMatchObject({ enabled: false })
  expect(m.projects.find((p) => p.id === 'a')?.limits).toEqual({ daily: 2 })
  expect(m.users.find((u) => u.id === 'u2')).toMatchObject({ role: 'admin', projects: ['a'], limits: { weekly: 0.5 } })
  // A config user gains the database membership, in addition to its own.
  expect(m.users.find((u) => u.id === 'u1')?.projects).toEqual(['open', 'a'])
  expect(file.users[0]!.projects).toEqual(['open'])
})

test("a project's own provider is left out of every other project's allow-list", () => {
  const m = mergeConfig(file, db)
  const allowed = (id: string) => m.projects.find((p) => p.id === id)?.providers
  expect(allowed('a')).toEqual(['cfg', 'shared', 'owned-a', 'undecryptable'])
  expect(allowed('open')).toEqual(['cfg', 'shared', 'undecryptable'])
  // An explicit list keeps its order and loses only what it may not reach.
  expect(allowed('listed')).toEqual(['cfg'])
  expect(allowed('b')).toEqual(['shared'])
  // With no owned providers, lists stay as written (absent = everything).
  expect(mergeConfig(file, { ...db, providers: [] }).projects.find((p) => p.id === 'open')?.providers).toBeUndefined()
})

test('an id in both places is reported with both locations', () => {
  const clashes = idConflicts(file, { projects: ['listed'], users: [], providers: ['cfg'], keys: [] })
  expect(clashes).toHaveLength(2)
  expect(clashes[0]).toContain('projects[1]')
  expect(clashes[0]).toContain('admin_projects')
  expect(clashes[1]).toContain('providers[0]')
})
