/**
 * Who owns each provider-side object: (provider id, kind, object id) → project, expiry.
 * - Writes go through the batched writer (off the request path); the id is in this instance's
 *   cache at once, so the creating project can use it in its very next request. Another
 *   instance of a cluster sees it once the batch is written (`[log] flush_interval_ms`).
 * - Reads: the cache, else one primary-key query (a local file's run on the query thread).
 *   Ownership never moves, so a database hit is cached too (read-through: a restarted
 *   gateway knows every object its database holds); a miss is remembered for a moment.
 */
import { and, eq, gt, isNull, or } from 'drizzle-orm'
import type { BatchWriter, TableSpec } from '../db/batch-writer'
import type { Db } from '../db/client'
import { providerObjects } from '../db/schema-objects'
import type { ObjectKind } from '../providers/types'
import { LruMap } from './cache'

export interface Owner {
  project: string
  /** Epoch ms, or null: kept until deleted. */
  expiresAt: number | null
}

/** Longer ids are no provider's; refused before any lookup, so nothing caches or queries them. */
export const MAX_ID_BYTES = 256

const CACHE_ENTRIES = 100_000
/**
 * Ids looked up and not found are not queried again for this long: a key guessing ids costs
 * one query per id per few seconds, not one per request. Another instance's new object may be
 * refused here for as long (on top of its writer's flush interval).
 */
const MISSING_MS = 2_000
const MISSING_ENTRIES = 10_000

const OBJECTS: TableSpec = {
  // The latest answer about an object wins: a PATCH that moves a cached content's expiry.
  verb: 'INSERT OR REPLACE INTO',
  table: 'provider_objects',
  columns: ['provider', 'kind', 'object_id', 'project', 'created_at', 'expires_at'],
  conflict: ['provider', 'kind', 'object_id'],
}

function keyOf(provider: string, kind: ObjectKind, id: string): string {
  return `${provider}\u0000${kind}\u0000${id}`
}

export function isPlausibleId(id: string): boolean {
  // eslint-disable-next-line no-control-regex
  return id.length > 0 && Buffer.byteLength(id) <= MAX_ID_BYTES && !/[\u0000-\u001f\u007f]/.test(id)
}

export class ObjectStore {
  private cache = new LruMap<Owner>(CACHE_ENTRIES)
  /** Ids not in the database, until when (epoch ms). */
  private missing = new LruMap<number>(MISSING_ENTRIES)

  constructor(
    private readonly db: Db,
    private readonly writer: Pick<BatchWriter, 'insert'>,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Records that `project` owns the object; queued for the database, known here at once. */
  record(provider: string, kind: ObjectKind, id: string, project: string, expiresAt?: number): void {
    if (!isPlausibleId(id)) return
    const key = keyOf(provider, kind, id)
    const known = this.cache.get(key)
    // Ownership never moves: an answer naming another project's object changes nothing.
    if (known && known.project !== project && this.live(known)) return
    const owner: Owner = { project, expiresAt: expiresAt ?? null }
    // Reads restate the object: only a new object or a moved expiry is written.
    if (known && known.project === project && known.expiresAt === owner.expiresAt) return
    this.missing.delete(key)
    this.cache.set(key, owner)
    this.writer.insert(OBJECTS, [provider, kind, id, project, this.clock(), owner.expiresAt])
  }

  /**
   * The owner deleted the object upstream: it is gone for everyone from now on. Written as an
   * expiry of now through the batched writer (no write on the request path); pruning drops the row.
   */
  forget(provider: string, kind: ObjectKind, id: string, project: string): void {
    if (!isPlausibleId(id)) return
    const key = keyOf(provider, kind, id)
    const owner: Owner = { project, expiresAt: this.clock() }
    this.cache.set(key, owner)
    this.writer.insert(OBJECTS, [provider, kind, id, project, this.clock(), owner.expiresAt])
  }

  /** The live owner, or undefined (never seen, or expired). Synchronous on a cache hit. */
  owner(provider: string, kind: ObjectKind, id: string): Owner | undefined | Promise<Owner | undefined> {
    if (!isPlausibleId(id)) return undefined
    const key = keyOf(provider, kind, id)
    const hit = this.cache.get(key)
    if (hit) return this.live(hit) ? hit : undefined
    const miss = this.missing.get(key)
    if (miss !== undefined && miss > this.clock()) return undefined
    return this.load(key, provider, kind, id)
  }

  private async load(key: string, provider: string, kind: ObjectKind, id: string): Promise<Owner | undefined> {
    const t = providerObjects
    const [row] = await this.db
      .select({ project: t.project, expiresAt: t.expiresAt })
      .from(t)
      .where(and(eq(t.provider, provider), eq(t.kind, kind), eq(t.objectId, id)))
      .limit(1)
    if (!row) {
      this.missing.set(key, this.clock() + MISSING_MS)
      return undefined
    }
    this.cache.set(key, row)
    return this.live(row) ? row : undefined
  }

  /**
   * Whether `project` owns the object, for filtering a list: the ids `owned` returned, or one
   * this instance recorded since (not yet written).
   */
  owns(provider: string, kind: ObjectKind, id: string, project: string, owned: Set<string>): boolean {
    if (owned.has(id)) return true
    const hit = this.cache.get(keyOf(provider, kind, id))
    return !!hit && hit.project === project && this.live(hit)
  }

  /** The ids of `kind` that `project` owns on `provider` (one query over an index). */
  async owned(provider: string, kind: ObjectKind, project: string): Promise<Set<string>> {
    const t = providerObjects
    const rows = await this.db
      .select({ id: t.objectId })
      .from(t)
      .where(and(eq(t.provider, provider), eq(t.kind, kind), eq(t.project, project), or(isNull(t.expiresAt), gt(t.expiresAt, this.clock()))))
    return new Set(rows.map((r) => r.id))
  }

  private live(o: Owner): boolean {
    return o.expiresAt === null || o.expiresAt > this.clock()
  }
}
