/**
 * One instance's link to the cluster's Redis: the connection state, the heartbeat (how many
 * instances are alive: N for `on_redis_down = "local"`), change notices over pub/sub, and the
 * rebuild barrier.
 *
 * States: `starting` → `up`; `down` while Redis cannot be reached (admissions of limited keys
 * follow `on_redis_down`); `rebuilding` while the shared counters are rebuilt.
 *
 * Rebuild (Redis empty or restarted: the ready marker is missing; or this instance did work
 * Redis never saw): every instance stops writing, makes its ledger durable, writes its own
 * rate-limit state back and reports its open reservations; the one that takes the lock waits
 * for the reports of the instances it last saw alive (at most ACK_WAIT_MS), rebuilds the
 * budget counters from the SQL ledger plus those reports, and sets the marker. Limited keys
 * wait for the marker (at most READY_WAIT_MS, then `on_redis_down` applies).
 */
import { hostname } from 'node:os'
import type Redis from 'ioredis'
import type { ClusterConfig } from '../config/schema'
import { connectRedis, describeRedisUrl, isConnectionError, type Script } from './redis'
import { HEARTBEAT, LEAVE } from './scripts'

export type LinkState = 'starting' | 'up' | 'rebuilding' | 'down'
export type Admission = 'shared' | 'local' | 'closed'

/** A Redis command could not run: Redis is down or did not answer in time. */
export class RedisDownError extends Error {
  readonly code = 'redis_down'
}

/** Redis answered but its counters are being rebuilt (it was empty or restarted). */
export class NotReadyError extends Error {
  readonly code = 'redis_not_ready'
}

/** What keeps state in Redis (rate limits, budgets) and takes part in rebuilds. */
export interface Participant {
  /** A rebuild starts: stop writing shared state; make what is settled durable (the ledger). */
  prepare(): Promise<void>
  /** Write this instance's own state back into Redis (idempotent). */
  restoreOwn(): Promise<void>
  /** This instance's report for the rebuild (JSON). */
  report(): unknown
  /** The rebuilding instance writes the shared state from SQL and every instance's report. */
  rebuild(reports: unknown[]): Promise<void>
  /** Shared again: apply what waited. */
  resume(): void
  /** Redis misses work of this instance (local-mode admissions, settlements of unknown outcome). */
  divergent(): boolean
  /** Periodic work while up: lease renewals and sweeps. */
  tick(): Promise<void>
}

export interface ClusterMessage {
  from: string
  type: 'key' | 'directory' | 'config' | 'ready'
  id?: string
}

const TICK_MS = 250
const HEARTBEAT_EVERY = 4
/** An instance that missed this many ms of heartbeats no longer counts. */
export const STALE_MS = 3500
const ACK_WAIT_MS = 2000
export const READY_WAIT_MS = 5000

export class ClusterLink {
  readonly cmd: Redis
  readonly sub: Redis
  readonly instance: string
  readonly prefix: string
  readonly channel: string
  state: LinkState = 'starting'
  /** Live instances at the last heartbeat (at least 1). */
  instances = 1
  /** Redis time minus local time, ms (from the last heartbeat). */
  clockOffset = 0
  /** Why Redis is not usable, for errors and /ready. */
  cause = 'Redis has not answered yet'
  /** When Redis was last lost (epoch ms). */
  downSince = Date.now()
  readonly counts = { messages: 0, rebuilds: 0, outages: 0 }
  private participants: Participant[] = []
  private handlers = new Map<string, ((m: ClusterMessage) => void)[]>()
  private rebuilding: Promise<void> | undefined
  private waiters: (() => void)[] = []
  private timer: ReturnType<typeof setInterval> | undefined
  private ticks = 0
  private ticking = false
  private stopped = false
  private resyncs: (() => void)[] = []

  constructor(
    readonly config: ClusterConfig & { redis_url: string },
    private readonly log: (line: string) => void = console.log,
  ) {
    // Unique per process start (several gateways may share a process in tests).
    this.instance = config.instance_id ?? `${hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 6)}`
    this.prefix = config.key_prefix
    this.channel = `${this.prefix}events`
    this.cmd = connectRedis(config.redis_url, `tollgate ${this.instance}`)
    this.sub = connectRedis(config.redis_url, `tollgate ${this.instance} (events)`)
  }

  get leaseMs(): number {
    return this.config.lease_seconds * 1000
  }

  get readyKey(): string {
    return this.key('ready')
  }

  key(...parts: string[]): string {
    return this.prefix + parts.join(':')
  }

  add(p: Participant): void {
    this.participants.push(p)
  }

  on(type: ClusterMessage['type'], f: (m: ClusterMessage) => void): void {
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), f])
  }

  /** Called after an outage, when change notices may have been missed (re-read keys, directory). */
  onResync(f: () => void): void {
    this.resyncs.push(f)
  }

  async start(): Promise<void> {
    this.cmd.on('error', () => {})
    this.sub.on('error', () => {})
    this.cmd.on('close', () => this.lost('the connection to Redis was lost'))
    this.cmd.on('ready', () => void this.beat())
    // (Re)subscribe on every connect: messages sent while disconnected are gone, so resync too.
    this.sub.on('ready', () => void this.sub.subscribe(this.channel).catch(() => {}))
    this.sub.on('message', (_ch: string, raw: string) => this.message(raw))
    try {
      await Promise.all([this.cmd.connect(), this.sub.connect()])
    } catch (e) {
      this.lost('Redis is unreachable', `${describeRedisUrl(this.config.redis_url)}: ${(e as Error).message}`)
    }
    await this.beat()
    this.timer = setInterval(() => void this.tick(), TICK_MS)
    this.timer.unref?.()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    this.wake()
    if (this.state !== 'down') await LEAVE.run(this.cmd, [this.key('instances')], [this.instance]).catch(() => {})
    this.cmd.disconnect()
    this.sub.disconnect()
  }

  /** How limited requests are admitted now: through Redis, by the local 1/N share, or refused. */
  async admission(): Promise<Admission> {
    if (this.state === 'up') return 'shared'
    if (this.state !== 'down') await this.waitReady(READY_WAIT_MS)
    // (The wait changed the state.)
    if ((this.state as LinkState) === 'up') return 'shared'
    return this.config.on_redis_down === 'local' ? 'local' : 'closed'
  }

  /** Runs a script; Redis down → RedisDownError; counters missing → a rebuild starts and NotReadyError. */
  async run(s: Script, keys: string[], args: (string | number)[]): Promise<unknown> {
    let r: unknown
    try {
      r = await s.run(this.cmd, keys, args)
    } catch (e) {
      if (!isConnectionError(e)) throw e
      this.lost('Redis did not answer', (e as Error).message)
      throw new RedisDownError(this.cause)
    }
    if (r === -1 || (Array.isArray(r) && r[0] === -1)) {
      void this.rebuild()
      throw new NotReadyError('the shared counters are being rebuilt')
    }
    return r
  }

  async publish(type: ClusterMessage['type'], id?: string): Promise<void> {
    const m: ClusterMessage = { from: this.instance, type, ...(id === undefined ? {} : { id }) }
    await this.cmd.publish(this.channel, JSON.stringify(m)).catch(() => {})
  }

  status(): Record<string, unknown> {
    const limited =
      this.state === 'up' ? 'shared' : this.state === 'down' ? (this.config.on_redis_down === 'local' ? `local share (1/${this.instances})` : 'refused') : 'waiting'
    return {
      redis: this.state,
      on_redis_down: this.config.on_redis_down,
      limited_keys: limited,
      instances: this.instances,
      instance: this.instance,
      ...(this.state === 'up' ? {} : { cause: this.cause }),
      messages_received: this.counts.messages,
      rebuilds: this.counts.rebuilds,
    }
  }

  /**
   * Marks Redis unusable (idempotent). `cause` is shown to clients (503 bodies) and on /ready,
   * so it names no host or address; `detail` (the client library's message) goes to the log only.
   */
  lost(cause: string, detail?: string): void {
    if (this.stopped) return
    if (this.state !== 'down') {
      this.counts.outages++
      this.downSince = Date.now()
      this.log(`cluster: Redis is down (${cause}${detail ? `: ${detail}` : ''}); limited keys: ${this.config.on_redis_down === 'local' ? `local 1/${this.instances} share` : 'refused'}`)
    }
    this.state = 'down'
    this.cause = cause
    this.wake()
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return
    this.ticking = true
    try {
      if (++this.ticks % HEARTBEAT_EVERY === 0 || this.state === 'down') await this.beat()
      if (this.state === 'up') for (const p of this.participants) await p.tick().catch((e) => this.failed(e))
    } finally {
      this.ticking = false
    }
  }

  private failed(e: unknown): void {
    if (e instanceof RedisDownError || e instanceof NotReadyError) return
    this.log(`cluster: ${(e as Error).message}`)
  }

  /** Heartbeat: counts live instances, notices a missing marker, and notices Redis is back. */
  private async beat(): Promise<void> {
    if (this.stopped) return
    let r: number[]
    try {
      r = (await HEARTBEAT.run(this.cmd, [this.key('instances'), this.readyKey], [this.instance, STALE_MS])) as number[]
    } catch (e) {
      if (isConnectionError(e)) this.lost('Redis is unreachable', (e as Error).message)
      return
    }
    this.instances = Math.max(1, Number(r[0]))
    this.clockOffset = Number(r[2]) - Date.now()
    if (this.state === 'rebuilding') return
    const wasDown = this.state === 'down'
    if (wasDown) {
      this.log('cluster: Redis is reachable again')
      for (const f of this.resyncs) f()
    }
    const divergent = this.participants.some((p) => p.divergent())
    if (!r[1] || divergent) {
      // Work Redis never saw (local share, settlements of unknown outcome): everyone rebuilds from the ledger.
      if (r[1] && divergent) await this.cmd.del(this.readyKey).catch(() => {})
      void this.rebuild()
      return
    }
    if (wasDown || this.state === 'starting') {
      for (const p of this.participants) await p.restoreOwn().catch((e) => this.failed(e))
      this.setUp()
    }
  }

  private rebuild(): Promise<void> {
    return (this.rebuilding ??= this.rebuildCycle().finally(() => (this.rebuilding = undefined)))
  }

  private async rebuildCycle(): Promise<void> {
    const acks = this.key('rebuild', 'reports')
    const lock = this.key('rebuild', 'lock')
    this.state = 'rebuilding'
    try {
      for (const p of this.participants) await p.prepare()
      for (const p of this.participants) await p.restoreOwn()
      const started = Date.now()
      await this.cmd.hset(acks, this.instance, JSON.stringify({ at: started, parts: this.participants.map((p) => p.report()) }))
      await this.cmd.pexpire(acks, 30_000)
      if ((await this.cmd.set(lock, this.instance, 'PX', 15_000, 'NX')) === 'OK') {
        const until = Date.now() + ACK_WAIT_MS
        while (Date.now() < until && (await this.cmd.hlen(acks)) < this.instances) await Bun.sleep(20)
        const reports = Object.values(await this.cmd.hgetall(acks))
          .map((s) => JSON.parse(s) as { at: number; parts: unknown[] })
          .filter((a) => a.at >= started - 10_000)
        for (const [i, p] of this.participants.entries()) await p.rebuild(reports.map((a) => a.parts[i]))
        await this.cmd.multi().set(this.readyKey, crypto.randomUUID()).del(acks).del(lock).exec()
        this.counts.rebuilds++
        this.log(`cluster: shared counters rebuilt from the ledger and the reports of ${reports.length} instance(s)`)
        void this.publish('ready')
      } else {
        const until = Date.now() + 10_000
        while (!(await this.cmd.exists(this.readyKey))) {
          if (Date.now() > until) throw new Error('the rebuild of the shared counters did not finish in time; retrying')
          await this.sleepOrReady(25)
        }
      }
      this.setUp()
    } catch (e) {
      if (isConnectionError(e)) this.lost('Redis failed during a rebuild', (e as Error).message)
      else {
        this.log(`cluster: ${(e as Error).message}`)
        this.state = 'down'
        this.cause = 'the shared counters are being rebuilt'
      }
      this.wake()
    }
  }

  private setUp(): void {
    if (this.stopped) return
    this.state = 'up'
    this.cause = ''
    for (const p of this.participants) p.resume()
    this.wake()
  }

  private message(raw: string): void {
    let m: ClusterMessage
    try {
      m = JSON.parse(raw) as ClusterMessage
    } catch {
      return
    }
    if (m.from === this.instance) return
    this.counts.messages++
    if (m.type === 'ready') this.wake()
    for (const f of this.handlers.get(m.type) ?? []) {
      try {
        f(m)
      } catch (e) {
        this.log(`cluster: handling a ${m.type} notice failed: ${(e as Error).message}`)
      }
    }
  }

  /** Waits while starting or rebuilding (woken by every state change), at most `ms`. */
  private async waitReady(ms: number): Promise<void> {
    const until = Date.now() + ms
    while ((this.state === 'starting' || this.state === 'rebuilding') && !this.stopped && Date.now() < until) {
      await this.sleepOrReady(Math.max(1, Math.min(100, until - Date.now())))
    }
  }

  private sleepOrReady(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms)
      this.waiters.push(() => {
        clearTimeout(t)
        resolve()
      })
    })
  }

  private wake(): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }
}
