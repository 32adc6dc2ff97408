/**
 * Several instances behind a load balancer (`[cluster] redis_url`): rate limits and spend
 * budgets shared through Redis, and change notices fanned out over pub/sub so every instance
 * applies a revoked key, a changed limit, a new credential or a config reload at once
 * (instead of at its next periodic refresh).
 */
import type { Config } from '../config/schema'
import type { Gateway } from '../gateway'
import { RedisLimiter } from '../ratelimit/redis'
import type { Spend } from '../spend/service'
import { SharedBudget } from './budget'
import { ClusterLink } from './link'
import { sweepAtStart } from './startup-sweep'

export interface Cluster {
  link: ClusterLink
  limiter: RedisLimiter
  budget: SharedBudget
  /** Connects, wires the notices, and waits until the shared counters are usable (or Redis is known down). */
  start(gw: Gateway): Promise<void>
  stop(): Promise<void>
  status(): Record<string, unknown>
}

/** The cluster parts for a config with `[cluster] redis_url`, else undefined (one process). */
export function createCluster(config: Config, spend: Spend, log: (line: string) => void = console.log): Cluster | undefined {
  const url = config.cluster.redis_url
  if (!url) return undefined
  const link = new ClusterLink({ ...config.cluster, redis_url: url }, log)
  const limiter = new RedisLimiter(link)
  const budget = new SharedBudget(link, spend, log)
  // Every ledger row this instance writes names it, so the others' start-up sweeps leave it alone.
  spend.ledger.instance = link.instance
  link.add(limiter)
  link.add(budget)
  return {
    link,
    limiter,
    budget,
    async start(gw) {
      gw.rateLimits.use(limiter)
      wireNotices(gw, link, log)
      await link.start()
      // Serve only once the counters are usable, or Redis is known to be down (on_redis_down then applies).
      await link.admission()
      // What a crash left open, except live instances' requests in flight (before any request is admitted).
      spend.lastSweep = await sweepAtStart(link, spend, log)
    },
    async stop() {
      await budget.drain()
      await link.stop()
    },
    status: () => ({ ...link.status(), open_reservations: budget.openCount }),
  }
}

/** What changes through this instance is announced; what another instance announces is applied here. */
function wireNotices(gw: Gateway, link: ClusterLink, log: (line: string) => void): void {
  let remote = 0
  let applied = fingerprint(gw.proxyConfig())
  const fromRemote = async (f: () => Promise<void> | void) => {
    remote++
    try {
      await f()
    } finally {
      remote--
    }
  }
  // A key revoked or changed through the admin API.
  gw.keys.onChange((id) => void link.publish('key', id))
  link.on('key', (m) => void gw.keys.invalidate(m.id).catch((e) => log(`cluster: re-reading key ${m.id ?? '(all)'} failed: ${(e as Error).message}`)))
  // Projects, users, memberships, credentials and limits changed through the admin API: the merged config changed.
  gw.onConfigApplied((next) => {
    const fp = fingerprint(next)
    if (fp === applied) return
    applied = fp
    if (!remote) void link.publish('directory')
  })
  link.on('directory', () => void fromRemote(() => gw.admin?.ctx.dir.reload()).catch((e) => log(`cluster: re-reading the directory failed: ${(e as Error).message}`)))
  // config.toml reloaded (SIGHUP) on one instance: the others re-read theirs.
  gw.onReload(() => {
    if (!remote) void link.publish('config')
  })
  link.on('config', () => void fromRemote(async () => void (await gw.reloadFromFile())).catch((e) => log(`cluster: ${(e as Error).message}`)))
  // Notices sent while Redis was away are lost: re-read everything once it is back.
  link.onResync(() => {
    void gw.keys.refresh().catch(() => {})
    void gw.admin?.ctx.dir.reload().catch(() => {})
  })
}

function fingerprint(c: Config): string {
  return Bun.hash(JSON.stringify([c.projects, c.users, c.providers, c.keys, c.routes])).toString(36)
}
