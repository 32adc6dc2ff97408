/** Lua scripts of the cluster itself: heartbeat and the rebuild barrier. */
import { Script } from './redis'

/**
 * KEYS: instances set, ready marker. ARGV: instance id, stale-after ms.
 * Registers this instance, drops the ones that stopped beating, and answers
 * {live instances, ready marker present (1/0), Redis time ms}.
 */
export const HEARTBEAT = new Script(
  'heartbeat',
  `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
return {redis.call('ZCARD', KEYS[1]), redis.call('EXISTS', KEYS[2]), now}`,
)

/** KEYS: instances set. ARGV: instance id. An instance leaving on purpose stops counting at once. */
export const LEAVE = new Script('leave', `return redis.call('ZREM', KEYS[1], ARGV[1])`)
