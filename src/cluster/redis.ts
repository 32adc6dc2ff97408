/**
 * Redis connections and Lua scripts. The client is ioredis: it reconnects on its own, says so
 * with `ready`/`close` events, resubscribes pub/sub channels after a reconnect, and bounds
 * every command with a timeout, which is what the fault modes need. (Bun's built-in
 * RedisClient covers EVALSHA and pub/sub too, at about a third of the CPU per command, but
 * it does not resubscribe after a reconnect and has no per-command timeout: a stopped Redis
 * would hang requests instead of failing them over to `on_redis_down`.)
 */
import Redis from 'ioredis'

/** How long one Redis command may take before the instance treats Redis as down. */
export const COMMAND_TIMEOUT_MS = 1000

export function connectRedis(url: string, name: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    connectionName: name,
    // Fail at once while disconnected: the caller decides (closed or local), nothing queues.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    // Keep trying, quickly at first: the cluster comes back as soon as Redis does.
    retryStrategy: (times) => Math.min(50 * times, 500),
    // Our own connection events say "down"; ioredis' error log would only repeat them.
    showFriendlyErrorStack: false,
  })
}

const CONNECTION_FAILURES = /Connection is closed|Stream isn't writeable|Command timed out|max retries|ECONN|EPIPE|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|connect|LOADING|socket/i

/** A failure to reach Redis (not an error raised by a script, nor a bug of ours). */
export function isConnectionError(e: unknown): boolean {
  const err = e as Error | undefined
  if (!err || err.name === 'ReplyError') return /^LOADING/.test(String(err?.message))
  return err.name === 'MaxRetriesPerRequestError' || CONNECTION_FAILURES.test(String(err.message))
}

/** A Lua script run by its SHA1, loaded on first use (and again after a Redis restart). */
export class Script {
  readonly sha: string

  constructor(
    readonly name: string,
    readonly lua: string,
  ) {
    this.sha = new Bun.CryptoHasher('sha1').update(lua).digest('hex')
  }

  async run(r: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await r.evalsha(this.sha, keys.length, ...keys, ...args)
    } catch (e) {
      if (!String((e as Error).message).startsWith('NOSCRIPT')) throw e
      return r.eval(this.lua, keys.length, ...keys, ...args)
    }
  }
}

/** A redis:// URL safe to print (no password). */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname === '/' ? '' : u.pathname}`
  } catch {
    return 'redis'
  }
}
