/**
 * Rate limits shared by every instance through Redis (scripts in lua.ts). Each admission is
 * one atomic script over all the request's scopes; its release is another, sent without
 * waiting. The instance also counts its own admissions in memory (the shadow), which:
 * - with Redis down and `on_redis_down = "local"`, enforces a 1/N share of every limit
 *   (N = the instances last seen alive), counting this instance's admissions of the minute;
 * - after a Redis restart or outage, is written back, so the minute is not forgotten.
 */
import { NotReadyError, RedisDownError, type ClusterLink, type Participant } from '../cluster/link'
import { LimitsUnavailableError } from './errors'
import { ACQUIRE, RELEASE, RENEW, RESTORE } from './lua'
import { MemoryLimiter } from './memory'
import { isRateDenial, scopeName, type RateDenial, type RateGrant, type RateLimiter, type RateMetric, type RateScope } from './types'

const METRICS: RateMetric[] = ['rpm', 'tpm', 'concurrency']
const RENEW_BATCH = 500

export class RedisLimiter implements RateLimiter, Participant {
  readonly shadow: MemoryLimiter
  /** Grants counted in Redis and still running (their leases are renewed). */
  private running = new Map<string, RateGrant>()
  private remote = new WeakSet<RateGrant>()

  constructor(
    private readonly link: ClusterLink,
    shadow?: MemoryLimiter,
  ) {
    this.shadow = shadow ?? new MemoryLimiter()
  }

  async acquire(id: string, scopes: RateScope[], tokens: number): Promise<RateGrant | RateDenial> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const mode = await this.link.admission()
      if (mode === 'closed') throw new LimitsUnavailableError(this.link.cause)
      if (mode === 'local') {
        this.shadow.divisor = this.link.instances
        const g = this.shadow.acquire(id, scopes, tokens)
        // Written back to Redis (and renewed from then on) when it returns.
        if (!isRateDenial(g)) this.running.set(id, g)
        return g
      }
      this.shadow.divisor = 1
      try {
        return await this.remoteAcquire(id, scopes, tokens)
      } catch (e) {
        if (!(e instanceof RedisDownError || e instanceof NotReadyError)) throw e
      }
    }
    throw new LimitsUnavailableError(this.link.cause || 'the shared counters are being rebuilt')
  }

  release(grant: RateGrant, used: number | undefined): void {
    this.shadow.release(grant, used)
    this.running.delete(grant.id)
    if (!this.remote.has(grant)) return
    const keys: string[] = []
    for (const s of grant.scopes) keys.push(this.base(s) + ':tok', this.base(s) + ':inf')
    // A release lost to an outage is repaired when the shadow is written back (restoreOwn).
    void this.link.run(RELEASE, keys, [grant.id, this.member(grant.id), used === undefined ? -1 : Math.round(used)]).catch(() => {})
  }

  private async remoteAcquire(id: string, scopes: RateScope[], tokens: number): Promise<RateGrant | RateDenial> {
    const keys = [this.link.readyKey]
    const args: (string | number)[] = [id, Math.round(tokens), this.link.leaseMs, this.member(id)]
    for (const s of scopes) {
      const b = this.base(s)
      keys.push(`${b}:log`, `${b}:tok`, `${b}:inf`)
      args.push(s.limits.rpm ?? 0, s.limits.tpm ?? 0, s.limits.concurrency ?? 0)
    }
    const r = (await this.link.run(ACQUIRE, keys, args)) as number[]
    if (r[0] === 1) {
      const g = this.shadow.record(id, scopes, tokens)
      this.remote.add(g)
      this.running.set(id, g)
      return g
    }
    return { denied: true, scope: scopes[r[1]! - 1]!, metric: METRICS[r[2]! - 1]!, limit: r[3]!, retryAfterMs: r[4]! }
  }

  private base(s: { kind: string; id: string }): string {
    return this.link.key('rl', scopeName(s as RateScope))
  }

  private member(id: string): string {
    return `${this.link.instance}|${id}`
  }

  // Participant: rate limits are written back by each instance; they need no ledger.

  async prepare(): Promise<void> {}

  async restoreOwn(): Promise<void> {
    const offset = this.link.clockOffset
    for (const sc of this.shadow.export()) {
      const b = this.link.key('rl', sc.scope)
      const args: (string | number)[] = [this.link.leaseMs, `${this.link.instance}|`, offset, sc.entries.length]
      for (const e of sc.entries) args.push(e.id, e.at, Math.round(e.tokens))
      for (const id of sc.inflight) args.push(this.member(id))
      await this.link.run(RESTORE, [`${b}:log`, `${b}:tok`, `${b}:inf`], args)
    }
    // Everything running is in Redis now.
    for (const [, g] of this.running) this.remote.add(g)
  }

  report(): unknown {
    return null
  }

  async rebuild(): Promise<void> {}

  resume(): void {}

  divergent(): boolean {
    return false
  }

  /** Renews the leases of this instance's requests in flight. */
  async tick(): Promise<void> {
    if (!this.running.size) return
    let keys: string[] = []
    let args: (string | number)[] = [this.link.leaseMs]
    for (const g of this.running.values()) {
      for (const s of g.scopes) {
        keys.push(`${this.base(s)}:inf`)
        args.push(this.member(g.id))
      }
      if (keys.length >= RENEW_BATCH) {
        await this.link.run(RENEW, keys, args)
        keys = []
        args = [this.link.leaseMs]
      }
    }
    if (keys.length) await this.link.run(RENEW, keys, args)
  }
}
