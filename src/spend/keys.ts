/** Every gateway key as a spend scope: config keys and the database's, with their limits. */
import type { Config } from '../config/schema'
import type { Db } from '../db/client'
import { apiKeys } from '../db/schema'
import { fromRow } from '../auth/keystore'
import type { LimitNanos } from './budget'
import type { ScopeRef } from './report'

export async function keyScopes(db: Db, config: Config, nanos: (l: Config['keys'][number]['limits']) => LimitNanos): Promise<ScopeRef[]> {
  const out: ScopeRef[] = config.keys.map((k) => ({ kind: 'key', id: k.id, project: k.project, user: k.user, limits: nanos(k.limits) }))
  for (const row of await db.select().from(apiKeys)) {
    const k = fromRow(row)
    out.push({ kind: 'key', id: k.id, project: k.project, user: k.user, limits: nanos(k.limits) })
  }
  return out
}
