/**
 * Resolves a presented secret to a key record. Config keys are indexed by digest;
 * generated keys by their id, with the digest compared in constant time. DB keys are
 * kept in memory and refreshed in the background, so lookup never waits on the database
 * except for a key created after the last refresh.
 *
 * Unknown ids do not reach the database one query each: an id not in memory triggers at most
 * one change-counter check per `recheckMs` (shared by every request waiting on it), and is then
 * remembered as missing for `missingTtlMs` in a bounded negative cache. Any key change (the
 * counter moving, reload/invalidate, a cluster notice, which calls invalidate) drops the cache.
 * A known id with a wrong secret and an unknown id both end in the same constant-time compare.
 */
import { eq, gt } from 'drizzle-orm'
import type { Config, Limits, RateLimits } from '../config/schema'
import type { Db } from '../db/client'
import { apiKeys, changeCounters } from '../db/schema'
import { digestsEqual, MAX_KEY_LENGTH, parseKeyId, sha256Hex } from './key-format'
import type { KeyRecord } from './principal'

export type KeyLookup =
  | { ok: true; key: KeyRecord }
  | { ok: false; reason: 'unknown' | 'expired' | 'too_long' }

const NANOS = 1e9
/** Compared against when the id is unknown, so both refusals do the same work. */
const NO_KEY = '0'.repeat(64)

export interface KeyStoreOptions {
  /** Least time between two database checks caused by unknown ids (default 250 ms). */
  recheckMs?: number
  /** How long an unknown id is remembered as missing (default 10 s). */
  missingTtlMs?: number
  /** Most unknown ids remembered; the oldest goes first (default 10,000). */
  missingMax?: number
}
type KeyRow = typeof apiKeys.$inferSelect

export class KeyStore {
  private byDigest = new Map<string, KeyRecord>()
  private dbById = new Map<string, KeyRecord>()
  /** The api_keys change counter as of the last full load (see refresh). */
  private keysVersion: number | undefined
  private refreshTimer: ReturnType<typeof setInterval> | undefined
  private changeListeners: ((id?: string) => void)[] = []
  /** Unknown id → until when it is known to be missing (insertion order = age). */
  private missing = new Map<string, number>()
  private lastRecheck = -Infinity
  private rechecking: Promise<void> | undefined
  private readonly recheckMs: number
  private readonly missingTtlMs: number
  private readonly missingMax: number

  constructor(
    private readonly db: Db,
    config: Config,
    private readonly now: () => number = Date.now,
    /** Keys read per query on a full load. */
    private readonly pageSize = 1000,
    opts: KeyStoreOptions = {},
  ) {
    this.recheckMs = opts.recheckMs ?? 250
    this.missingTtlMs = opts.missingTtlMs ?? 10_000
    this.missingMax = opts.missingMax ?? 10_000
    this.setConfig(config)
  }

  /** How many unknown ids are remembered now (tests, metrics). */
  get missingCount(): number {
    return this.missing.size
  }

  /** Replaces the config keys (on start and on reload). */
  setConfig(config: Config): void {
    const m = new Map<string, KeyRecord>()
    for (const k of config.keys) {
      const digest = k.key_sha256?.toLowerCase() ?? (k.key ? sha256Hex(k.key) : undefined)
      if (!digest) continue
      m.set(digest, {
        id: k.id,
        name: k.name,
        project: k.project,
        user: k.user,
        sha256: digest,
        providers: k.providers,
        models: k.models,
        expiresAt: k.expires ? Date.parse(k.expires) : undefined,
        limits: k.limits,
        rateLimits: k.rate_limits,
        source: 'config',
      })
    }
    this.byDigest = m
  }

  /**
   * Loads every DB key; call once at start, then every `intervalMs`. Skipped while the keys'
   * change counter (bumped by database triggers on any write to api_keys) has not moved.
   */
  async refresh(): Promise<void> {
    // Read before the keys: a change in between is loaded now or, its bump seen, next time.
    const [counter] = await this.db.select({ version: changeCounters.version }).from(changeCounters).where(eq(changeCounters.name, 'api_keys'))
    if (counter && counter.version === this.keysVersion) return
    // In pages (by id): requests are served between them, where one read of 20k keys held the
    // event loop for ~45 ms. Not a snapshot, and it need not be: a write during the pages moves
    // the counter past the version kept below, so the next refresh reads everything again.
    const m = new Map<string, KeyRecord>()
    for (let after: string | undefined; ; ) {
      const rows = await this.db
        .select()
        .from(apiKeys)
        .where(after === undefined ? undefined : gt(apiKeys.id, after))
        .orderBy(apiKeys.id)
        .limit(this.pageSize)
      for (const r of rows) m.set(r.id, fromRow(r))
      if (rows.length < this.pageSize) break
      after = rows[rows.length - 1]!.id
    }
    this.dbById = m
    this.keysVersion = counter?.version
    this.missing.clear()
  }

  /**
   * Re-reads one DB key (or all, without an id) right away, so a change made through the
   * admin API (revocation, new limits, expiry) applies to this process's next request.
   */
  async reload(id?: string): Promise<void> {
    await this.invalidate(id)
    // Other instances must apply it too (src/cluster/ publishes it).
    for (const f of this.changeListeners) f(id)
  }

  /** Re-reads one DB key (or all) like reload(), without announcing it: a change another instance announced. */
  async invalidate(id?: string): Promise<void> {
    if (id === undefined) {
      this.missing.clear()
      return this.refresh()
    }
    this.missing.delete(id)
    const [row] = await this.db.select().from(apiKeys).where(eq(apiKeys.id, id)).limit(1)
    if (row) this.dbById.set(id, fromRow(row))
    else this.dbById.delete(id)
  }

  /** Called after every reload() (a change made through this process). */
  onChange(f: (id?: string) => void): void {
    this.changeListeners.push(f)
  }

  startRefreshing(intervalMs = 5000): void {
    this.refreshTimer = setInterval(() => void this.refresh().catch(() => {}), intervalMs)
    this.refreshTimer.unref?.()
  }

  stop(): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer)
  }

  /**
   * An id not in memory: maybe created after the last refresh (by the CLI a moment ago, whose
   * write moved the change counter). Checked at most once per `recheckMs`, then remembered.
   */
  private async dbKeyNotInMemory(id: string): Promise<KeyRecord | undefined> {
    const until = this.missing.get(id)
    if (until !== undefined) {
      if (until > this.now()) return undefined
      this.missing.delete(id)
    }
    if (this.now() - this.lastRecheck >= this.recheckMs) {
      this.lastRecheck = this.now()
      this.rechecking ??= this.refresh()
        .catch(() => {})
        .finally(() => (this.rechecking = undefined))
    }
    if (this.rechecking) await this.rechecking
    const rec = this.dbById.get(id)
    if (rec) return rec
    this.missing.set(id, this.now() + this.missingTtlMs)
    if (this.missing.size > this.missingMax) this.missing.delete(this.missing.keys().next().value!)
    return undefined
  }

  async lookup(secret: string): Promise<KeyLookup> {
    if (secret.length > MAX_KEY_LENGTH) return { ok: false, reason: 'too_long' }
    const digest = sha256Hex(secret)
    let key = this.byDigest.get(digest)
    if (key && !digestsEqual(key.sha256, digest)) key = undefined
    if (!key) {
      const id = parseKeyId(secret)
      if (id) {
        const rec = this.dbById.get(id) ?? (await this.dbKeyNotInMemory(id))
        // The same compare whether the id is known or not.
        const same = digestsEqual(rec?.sha256 ?? NO_KEY, digest)
        if (rec && same) key = rec
      }
    }
    // Unknown and revoked keys get the same answer, so a probe learns nothing.
    if (!key || key.revokedAt !== undefined) return { ok: false, reason: 'unknown' }
    if (key.expiresAt !== undefined && key.expiresAt <= this.now()) return { ok: false, reason: 'expired' }
    return { ok: true, key }
  }
}

function rateLimitsFromRow(r: KeyRow): RateLimits | undefined {
  if (r.rateRpm === null && r.rateTpm === null && r.rateConcurrency === null) return undefined
  return { rpm: r.rateRpm ?? undefined, tpm: r.rateTpm ?? undefined, concurrency: r.rateConcurrency ?? undefined }
}

function nanosToUsd(n: number | null): number | undefined {
  return n === null ? undefined : n / NANOS
}

export function fromRow(r: KeyRow): KeyRecord {
  const limits: Limits = {}
  if (r.limitDailyNanos !== null) limits.daily = nanosToUsd(r.limitDailyNanos)
  if (r.limitWeeklyNanos !== null) limits.weekly = nanosToUsd(r.limitWeeklyNanos)
  if (r.limitMonthlyNanos !== null) limits.monthly = nanosToUsd(r.limitMonthlyNanos)
  if (r.limitTotalNanos !== null) limits.total = nanosToUsd(r.limitTotalNanos)
  return {
    id: r.id,
    name: r.name ?? undefined,
    project: r.project,
    user: r.user ?? undefined,
    sha256: r.keySha256,
    providers: r.providers ?? undefined,
    models: r.models ?? undefined,
    expiresAt: r.expiresAt ?? undefined,
    revokedAt: r.revokedAt ?? undefined,
    limits,
    rateLimits: rateLimitsFromRow(r),
    source: 'db',
  }
}
