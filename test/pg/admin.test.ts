/**
 * The admin API on PostgreSQL, end to end through the real gateway: a credential, project,
 * user, membership and key made through the API serve a request; usage, the request log and
 * the audit log read it back; removing the member revokes the key at once (a batched
 * delete), and the user and project go. The admin suites (test/admin/) run on libSQL.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { adminUsers } from '../../src/db/schema-admin'
import { adminToml, request, sessionFor, type Caller } from '../admin/fixture'
import { startGateway, type TestGateway } from '../support/gateway'
import { skipWithoutPostgres } from '../support/postgres'

const noPg = skipWithoutPostgres('admin API on PostgreSQL')

describe.skipIf(!!noPg)('admin API on PostgreSQL', () => {
  let gw: TestGateway
  let root: Caller
  let upstream: ReturnType<typeof Bun.serve>
  const api = (method: string, path: string, body?: unknown) => request(gw.gw, root, method, `/admin/api/v1${path}`, body)

  beforeAll(async () => {
    upstream = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: () => Response.json({ id: 'c', object: 'chat.completion', model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 } }),
    })
    const quiet = console.log
    console.log = () => {}
    try {
      gw = await startGateway(adminToml(), { database: 'postgres', logOutput: { write: async () => {} } })
    } finally {
      console.log = quiet
    }
    await gw.gw.database.db.insert(adminUsers).values({ id: 'root', role: 'admin', createdAt: Date.now() })
    await gw.gw.admin!.ctx.dir.reload()
    root = await sessionFor(gw.gw, 'root')
  })
  afterAll(async () => {
    await gw?.stop()
    upstream?.stop(true)
  })

  test('create, use, report and remove', async () => {
    expect(gw.databaseUrl).toStartWith('postgres://')
    expect((await api('POST', '/providers', { id: 'up', api: 'openai', api_key: 'sk-test-pg-admin-0001', base_url: `http://127.0.0.1:${upstream.port}/v1` })).status).toBe(201)
    const project = await api('POST', '/projects', { id: 'alpha', name: 'Alpha', providers: ['up'], limits: { monthly_nanos: 5_000_000_000_000 } })
    expect(project.status).toBe(201)
    expect((await api('POST', '/users', { id: 'dev', email: 'dev@example.com' })).status).toBe(201)
    expect((await api('POST', '/projects/alpha/members', { user: 'dev', role: 'member' })).status).toBe(201)
    const made = await api('POST', '/keys', { project: 'alpha', user: 'dev', name: 'k', models: ['gpt-4o*'], limits: { total_nanos: 3_000_000_000_000 } })
    expect(made.status).toBe(201)
    const { secret, key } = made.json as { secret: string; key: { id: string } }
    expect((await api('GET', `/limits/key/${key.id}`)).json.limits).toMatchObject({ total_nanos: 3_000_000_000_000 })
    expect((await api('PUT', `/limits/key/${key.id}`, { daily_nanos: 4_000_000_000_000 })).status).toBe(200)

    const client = new OpenAI({ apiKey: secret, baseURL: `${gw.url}/up`, maxRetries: 0 })
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
    expect(r.usage?.total_tokens).toBe(1500)
    await gw.gw.requestLog.flush()

    const summary = (await api('GET', '/usage/summary?project=alpha')).json
    expect(summary.day).toMatchObject({ requests: 1, errors: 0, input_tokens: 1000, output_tokens: 500 })
    expect(summary.day.spend_nanos).toBeGreaterThan(0)
    const series = (await api('GET', '/usage/series?project=alpha&bucket=hour&group=user')).json
    expect(series.points).toHaveLength(1)
    expect(series.points[0]).toMatchObject({ group: 'dev', requests: 1 })
    // Day buckets (uneven days, bucketed by a CASE over the zone's midnights) on PostgreSQL too.
    const days = (await api('GET', '/usage/series?project=alpha&bucket=day')).json
    expect(days.starts).toHaveLength(15)
    expect(days.points).toHaveLength(1)
    expect(days.points[0]).toMatchObject({ t: days.starts.at(-1), requests: 1 })
    const log = (await api('GET', '/request-log?project=alpha&status=2xx')).json.entries as { id: string }[]
    expect(log).toHaveLength(1)
    expect((await api('GET', '/request-log?project=alpha&status=error')).json.entries).toEqual([])
    // One entry with the usage exactly as the provider reported it.
    expect((await api('GET', `/request-log/${log[0]!.id}`)).json.usage).toEqual({ prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 })

    // Removing the member revokes their keys and the membership in one batch; the proxy refuses the key at once.
    expect((await api('DELETE', '/projects/alpha/members/dev')).status).toBe(200)
    const refused = await fetch(`${gw.url}/up/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [] }) })
    expect(refused.status).toBe(401)
    expect((await api('DELETE', '/users/dev')).status).toBe(200)
    expect((await api('DELETE', '/projects/alpha')).status).toBe(200)
    expect((await api('GET', '/projects/alpha')).status).toBe(404)

    const actions = ((await api('GET', '/audit')).json.entries as { action: string }[]).map((e) => e.action)
    for (const a of ['provider.create', 'project.create', 'user.create', 'member.add', 'key.create', 'limits.set', 'member.remove', 'user.delete', 'project.delete']) expect(actions).toContain(a)
  }, 30_000)
})
