/**
 * Spend budgets in Redis: the same admission rule as the in-memory budget (src/spend/budget.ts),
 * checked and reserved on every scope in one atomic script.
 *
 * - `<p>b:<scope>` (hash, one per limited scope): `init`, per window `<w>s` start, `<w>p` spent,
 *   `<w>r` reserved for the day, week and month (w = d, w, m), `tp`/`tr` for total, `n` in flight.
 * - `<p>br:<request id>` (hash): an open reservation: amount `a`, the window starts it reserved in,
 *   its scopes `sc` (newline-separated), `f` the scope (1-based) it does not charge when swept.
 * - `<p>bleases` (sorted set): request id → lease expiry. An instance renews its leases; the
 *   survivors sweep a dead one's (SWEEP), by `limits.crash_recovery`, leaving `<p>bt:<id>`.
 * - A settled reservation stays (`st` = 1, cost `c`), leased, until its instance's ledger has
 *   the settlement durably (CONFIRM): if the instance dies first, a survivor writes it.
 *
 * Money travels as decimal strings into HINCRBY (Lua would print large numbers in exponent form).
 */
import { Script } from './redis'

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

/**
 * KEYS: ready, leases, reservation, then one hash per scope.
 * ARGV: id, amount, lease ms, day/week/month starts, scope ttl ms (refreshed by SETTLE), scope names (newline-joined),
 * free index (0 = none), then per scope the day, week, month and total limits ('' = none).
 * → {1, ds, ws, ms} (the window starts used) | {0, scope, window (1 day … 4 total), limit, spent, reserved}
 *   | {-1} not ready | {-2, scopes…} scopes to load from the ledger first
 */
export const RESERVE = new Script(
  'budget_reserve',
  `if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local n = #KEYS - 3
local amount = tonumber(ARGV[2])
local W = {'d', 'w', 'm'}
-- Where each window's spent sits in the HMGET below (reserved follows it).
local SP = {2, 5, 8, 10}
local starts = {tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])}
local vals = {}
local missing = {-2}
for i = 1, n do
  local v = redis.call('HMGET', KEYS[3 + i], 'ds', 'dp', 'dr', 'ws', 'wp', 'wr', 'ms', 'mp', 'mr', 'tp', 'tr', 'n', 'init')
  if not v[13] then missing[#missing + 1] = i end
  -- The newest window any scope moved to wins: an instance whose clock lags joins it.
  for j = 1, 3 do
    local c = tonumber(v[j * 3 - 2])
    if c and c > starts[j] then starts[j] = c end
  end
  vals[i] = v
end
if #missing > 1 then return missing end
local rolled = {}
for i = 1, n do
  local v = vals[i]
  rolled[i] = {}
  for j = 1, 3 do
    if tonumber(v[j * 3 - 2]) ~= starts[j] then
      -- A new window starts empty; open reservations settle into the one they came from.
      rolled[i][j] = true
      v[j * 3 - 1] = 0
      v[j * 3] = 0
    end
  end
  local inflight = tonumber(v[12]) or 0
  for j = 1, 4 do
    local lim = ARGV[9 + (i - 1) * 4 + j]
    if lim ~= '' then
      lim = tonumber(lim)
      local sp = tonumber(v[SP[j]]) or 0
      local r = tonumber(v[SP[j] + 1]) or 0
      if not (sp + r + amount <= lim or (sp + r < lim and inflight == 0)) then return {0, i, j, lim, sp, r} end
    end
  end
end
for i = 1, n do
  local k = KEYS[3 + i]
  for j = 1, 3 do
    if rolled[i][j] then
      redis.call('HSET', k, W[j] .. 's', string.format('%d', starts[j]), W[j] .. 'p', 0, W[j] .. 'r', ARGV[2])
    else
      redis.call('HINCRBY', k, W[j] .. 'r', ARGV[2])
    end
  end
  redis.call('HINCRBY', k, 'tr', ARGV[2])
  redis.call('HINCRBY', k, 'n', 1)
end
${NOW}
local ds, ws, ms = string.format('%d', starts[1]), string.format('%d', starts[2]), string.format('%d', starts[3])
redis.call('HSET', KEYS[3], 'a', ARGV[2], 'ds', ds, 'ws', ws, 'ms', ms, 'sc', ARGV[8], 'f', ARGV[9])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
return {1, starts[1], starts[2], starts[3]}`,
)

/** Adds `cost` (and takes `amount` off reserved) in the windows a reservation made at `starts` still lies in. */
const APPLY = `local W = {'d', 'w', 'm'}
local function apply(k, starts, neg, cost, charge)
  local cur = redis.call('HMGET', k, 'ds', 'ws', 'ms')
  for j = 1, 3 do
    if cur[j] == starts[j] then
      if neg then redis.call('HINCRBY', k, W[j] .. 'r', neg) end
      if charge then redis.call('HINCRBY', k, W[j] .. 'p', cost) end
    end
  end
  if neg then redis.call('HINCRBY', k, 'tr', neg) end
  if charge then redis.call('HINCRBY', k, 'tp', cost) end
end`

/**
 * KEYS: ready, leases, reservation, tombstone, then one hash per scope.
 * ARGV: id, cost, free index (0 = none), ttl ms, then the day/week/month starts it reserved in.
 * → 1 settled | 2 settled after a sweep (the difference to what the sweep charged) | 3 the reservation
 *   was lost (Redis restarted without this instance's report): the cost is added | 4 already settled
 *   | -1 not ready
 */
export const SETTLE = new Script(
  'budget_settle',
  `if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
${APPLY}
local n = #KEYS - 4
local free = tonumber(ARGV[3])
local res = redis.call('HMGET', KEYS[3], 'a', 'ds', 'ws', 'ms', 'st')
if res[5] then return 4 end
if res[1] then
  local neg = '-' .. res[1]
  for i = 1, n do
    local k = KEYS[4 + i]
    apply(k, {res[2], res[3], res[4]}, neg, ARGV[2], i ~= free)
    if tonumber(redis.call('HINCRBY', k, 'n', -1)) < 0 then redis.call('HSET', k, 'n', 0) end
    redis.call('PEXPIRE', k, ARGV[4])
  end
  redis.call('HSET', KEYS[3], 'st', 1, 'c', ARGV[2])
  return 1
end
local swept = redis.call('HMGET', KEYS[4], 'c', 'f')
local starts = {ARGV[5], ARGV[6], ARGV[7]}
for i = 1, n do
  local k = KEYS[4 + i]
  if redis.call('HEXISTS', k, 'init') == 1 then
    local delta = 0
    if i ~= free then delta = tonumber(ARGV[2]) end
    if swept[1] and i ~= tonumber(swept[2]) then delta = delta - tonumber(swept[1]) end
    if delta ~= 0 then apply(k, starts, nil, string.format('%d', delta), true) end
  end
end
if swept[1] then
  redis.call('DEL', KEYS[4])
  return 2
end
return 3`,
)

/**
 * KEYS: ready, leases. ARGV: rule ("charge" | "release"), most to sweep, key prefix.
 * Settles reservations whose lease expired (their instance died) as the crash sweep does:
 * "charge" at the reserved amount, "release" at zero. One already settled here (its instance
 * died before its ledger had the settlement) changes no counter. → {id, how, cost, …} with how
 * "swept" (cost = what was charged) or "settled" (cost = the settled cost)
 */
export const SWEEP = new Script(
  'budget_sweep',
  `if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
${NOW}
${APPLY}
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local rk = ARGV[3] .. 'br:' .. id
  local r = redis.call('HMGET', rk, 'a', 'ds', 'ws', 'ms', 'sc', 'f', 'st', 'c')
  if r[7] then
    redis.call('DEL', rk)
    out[#out + 1] = id
    out[#out + 1] = 'settled'
    out[#out + 1] = r[8]
  elseif r[1] then
    local charged = '0'
    if ARGV[1] == 'charge' then charged = r[1] end
    local free = tonumber(r[6]) or 0
    local i = 0
    for name in string.gmatch(r[5], '[^\\n]+') do
      i = i + 1
      local k = ARGV[3] .. 'b:' .. name
      if redis.call('HEXISTS', k, 'init') == 1 then
        apply(k, {r[2], r[3], r[4]}, '-' .. r[1], charged, i ~= free)
        if tonumber(redis.call('HINCRBY', k, 'n', -1)) < 0 then redis.call('HSET', k, 'n', 0) end
      end
    end
    redis.call('DEL', rk)
    local tk = ARGV[3] .. 'bt:' .. id
    redis.call('HSET', tk, 'c', charged, 'f', free)
    redis.call('PEXPIRE', tk, 86400000)
    out[#out + 1] = id
    out[#out + 1] = 'swept'
    out[#out + 1] = charged
  end
  redis.call('ZREM', KEYS[2], id)
end
return out`,
)

/** KEYS: leases. ARGV: lease ms, then request ids. Extends the leases of reservations still open. */
export const RENEW = new Script(
  'budget_renew',
  `${NOW}
local expiry = now + tonumber(ARGV[1])
local n = 0
for i = 2, #ARGV do n = n + redis.call('ZADD', KEYS[1], 'XX', 'CH', expiry, ARGV[i]) end
return n`,
)

/**
 * KEYS: scope hashes. ARGV: ttl ms, day/week/month starts, then per scope the day, week, month
 * and total spent (from the ledger). Loads scopes Redis does not hold yet; a scope another
 * instance loaded meanwhile is left alone.
 */
export const INIT = new Script(
  'budget_init',
  `for i = 1, #KEYS do
  if redis.call('HEXISTS', KEYS[i], 'init') == 0 then
    local b = 4 + (i - 1) * 4
    redis.call('HSET', KEYS[i], 'init', 1, 'ds', ARGV[2], 'dp', ARGV[b + 1], 'dr', 0, 'ws', ARGV[3], 'wp', ARGV[b + 2], 'wr', 0,
      'ms', ARGV[4], 'mp', ARGV[b + 3], 'mr', 0, 'tp', ARGV[b + 4], 'tr', 0, 'n', 0)
    redis.call('PEXPIRE', KEYS[i], ARGV[1])
  end
end
return 1`,
)

/** KEYS: leases. ARGV: key prefix, then request ids whose settlement the ledger now holds durably. */
export const CONFIRM = new Script(
  'budget_confirm',
  `local n = 0
for i = 2, #ARGV do
  local rk = ARGV[1] .. 'br:' .. ARGV[i]
  if redis.call('HEXISTS', rk, 'st') == 1 then
    redis.call('DEL', rk)
    redis.call('ZREM', KEYS[1], ARGV[i])
    n = n + 1
  end
end
return n`,
)
