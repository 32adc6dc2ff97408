/**
 * Rate limits in Redis, one atomic Lua script per step. Per scope three keys:
 * - `<scope>:log`, a sorted set of the minute's requests (member: request id, score: admission
 *   time) — rpm is its size;
 * - `<scope>:tok`, a hash of each request's tokens plus their sum in field `#` — tpm;
 * - `<scope>:inf`, a sorted set of requests in flight (member: `<instance>|<request id>`,
 *   score: lease expiry) — concurrency. An instance renews its leases while the request
 *   runs; a dead instance's entries expire and stop counting.
 * Times come from Redis (TIME), so instances' clocks do not matter. The ready marker (KEYS[1])
 * is absent on an empty or restarted Redis: the script answers {-1} and the instance rebuilds.
 */
import { Script } from '../cluster/redis'

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

/** Drops the requests that left the minute from a scope's log and token sum. */
const PRUNE = `local function prune(log, tok, since)
  while true do
    local old = redis.call('ZRANGEBYSCORE', log, '-inf', since, 'LIMIT', 0, 500)
    if #old == 0 then return end
    local sum = 0
    for _, v in ipairs(redis.call('HMGET', tok, unpack(old))) do sum = sum + (tonumber(v) or 0) end
    redis.call('HDEL', tok, unpack(old))
    redis.call('HINCRBY', tok, '#', -sum)
    redis.call('ZREM', log, unpack(old))
    if #old < 500 then return end
  end
end`

/**
 * KEYS: ready marker, then log, tok, inf per scope.
 * ARGV: request id, tokens, lease ms, in-flight member, then rpm, tpm, concurrency per scope (0 = none).
 * → {1, now} | {0, scope (1-based), metric (1 rpm, 2 tpm, 3 concurrency), limit, retry ms} | {-1}
 */
export const ACQUIRE = new Script(
  'rl_acquire',
  `if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
${NOW}
${PRUNE}
local id, tokens, lease, member = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local n = (#KEYS - 1) / 3
local since = now - 60000
for i = 1, n do
  local log, tok, inf = KEYS[i * 3 - 1], KEYS[i * 3], KEYS[i * 3 + 1]
  local rpm, tpm, conc = tonumber(ARGV[i * 3 + 2]), tonumber(ARGV[i * 3 + 3]), tonumber(ARGV[i * 3 + 4])
  prune(log, tok, since)
  redis.call('ZREMRANGEBYSCORE', inf, '-inf', now)
  if rpm > 0 then
    local count = redis.call('ZCARD', log)
    if count >= rpm then
      local e = redis.call('ZRANGE', log, count - rpm, count - rpm, 'WITHSCORES')
      return {0, i, 1, rpm, tonumber(e[2]) + 60000 - now}
    end
  end
  if conc > 0 and redis.call('ZCARD', inf) >= conc then return {0, i, 3, conc, 1000} end
  if tpm > 0 then
    local used = tonumber(redis.call('HGET', tok, '#') or '0')
    if used + tokens > tpm and not (used < tpm and redis.call('ZCARD', inf) == 0) then
      local wait, left = 60000, used
      local olds = redis.call('ZRANGE', log, 0, 999, 'WITHSCORES')
      for j = 1, #olds, 2 do
        left = left - (tonumber(redis.call('HGET', tok, olds[j])) or 0)
        if left + tokens <= tpm or (tokens > tpm and left < tpm) then
          wait = tonumber(olds[j + 1]) + 60000 - now
          break
        end
      end
      return {0, i, 2, tpm, wait}
    end
  end
end
local ttl = 60000 + lease
for i = 1, n do
  local log, tok, inf = KEYS[i * 3 - 1], KEYS[i * 3], KEYS[i * 3 + 1]
  redis.call('ZADD', log, now, id)
  redis.call('HSET', tok, id, tokens)
  redis.call('HINCRBY', tok, '#', tokens)
  redis.call('ZADD', inf, now + lease, member)
  redis.call('PEXPIRE', log, ttl)
  redis.call('PEXPIRE', tok, ttl)
  redis.call('PEXPIRE', inf, ttl)
end
return {1, now}`,
)

/**
 * KEYS: tok, inf per scope. ARGV: request id, in-flight member, tokens used (-1 keeps the reservation).
 * Frees the in-flight slot and settles the tokens (if the request is still inside the minute).
 */
export const RELEASE = new Script(
  'rl_release',
  `local used = tonumber(ARGV[3])
for i = 1, #KEYS / 2 do
  local tok, inf = KEYS[i * 2 - 1], KEYS[i * 2]
  redis.call('ZREM', inf, ARGV[2])
  if used >= 0 then
    local old = redis.call('HGET', tok, ARGV[1])
    if old then
      redis.call('HSET', tok, ARGV[1], used)
      redis.call('HINCRBY', tok, '#', used - tonumber(old))
    end
  end
end
return 1`,
)

/** KEYS: inf keys. ARGV: lease ms, then one member per key. Extends the leases of requests still running. */
export const RENEW = new Script(
  'rl_renew',
  `${NOW}
local lease = tonumber(ARGV[1])
local n = 0
for i = 1, #KEYS do
  n = n + redis.call('ZADD', KEYS[i], 'XX', 'CH', now + lease, ARGV[i + 1])
  redis.call('PEXPIRE', KEYS[i], 60000 + lease)
end
return n`,
)

/**
 * Writes one scope of an instance's own admissions back (after a Redis restart or outage).
 * KEYS: log, tok, inf. ARGV: lease ms, member prefix (`<instance>|`), clock offset (ms to add
 * to the instance's times), entry count, then (id, at, tokens) per entry, then the members in flight.
 * Idempotent: known requests only get their settled tokens; this instance's in-flight members
 * become exactly the ones given.
 */
export const RESTORE = new Script(
  'rl_restore',
  `${NOW}
local log, tok, inf = KEYS[1], KEYS[2], KEYS[3]
local lease, prefix, offset, ne = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local idx = 5
for j = 1, ne do
  local id, at, tk = ARGV[idx], tonumber(ARGV[idx + 1]) + offset, tonumber(ARGV[idx + 2])
  idx = idx + 3
  if at > now - 60000 then
    local old = redis.call('HGET', tok, id)
    if not old then
      redis.call('ZADD', log, at, id)
      redis.call('HSET', tok, id, tk)
      redis.call('HINCRBY', tok, '#', tk)
    elseif tonumber(old) ~= tk then
      redis.call('HSET', tok, id, tk)
      redis.call('HINCRBY', tok, '#', tk - tonumber(old))
    end
  end
end
local keep = {}
for j = idx, #ARGV do keep[ARGV[j]] = true end
for _, m in ipairs(redis.call('ZRANGE', inf, 0, -1)) do
  if string.sub(m, 1, #prefix) == prefix and not keep[m] then redis.call('ZREM', inf, m) end
end
for m in pairs(keep) do redis.call('ZADD', inf, now + lease, m) end
local ttl = 60000 + lease
redis.call('PEXPIRE', log, ttl)
redis.call('PEXPIRE', tok, ttl)
redis.call('PEXPIRE', inf, ttl)
return now`,
)
