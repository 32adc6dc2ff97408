/**
 * A change notice from outside a running gateway (the CLI): with `[cluster] redis_url`, every
 * instance applies it at once instead of at its next periodic refresh.
 */
import type { Config } from '../config/schema'
import type { ClusterMessage } from './link'
import { connectRedis } from './redis'

/** Publishes one notice; false when there is no cluster or Redis cannot be reached. */
export async function notifyCluster(config: Config, type: ClusterMessage['type'], id?: string): Promise<boolean> {
  const url = config.cluster.redis_url
  if (!url) return false
  const r = connectRedis(url, 'tollgate cli')
  r.on('error', () => {})
  try {
    await r.connect()
    const m: ClusterMessage = { from: 'cli', type, ...(id === undefined ? {} : { id }) }
    await r.publish(`${config.cluster.key_prefix}events`, JSON.stringify(m))
    return true
  } catch {
    return false
  } finally {
    r.disconnect()
  }
}
