import { type Script, script } from './redis-client'

// Every script reads the time from Redis (TIME), so instances with skewed clocks agree.
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000`

/** KEYS[1] hash of segment -> units. ARGV: limit, window, segments, weight. @internal */
export const slidingWindowScript: Script = script(`${NOW}
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local segments = tonumber(ARGV[3])
local weight = tonumber(ARGV[4])
local g = window / segments
local ring = segments + 1
local seg = math.floor(now / g)
local data = redis.call('HGETALL', key)
local total = 0
local live = {}
for i = 1, #data, 2 do
  local s = tonumber(data[i])
  local c = tonumber(data[i + 1])
  if s <= seg - ring then
    redis.call('HDEL', key, data[i])
  else
    total = total + c
    live[#live + 1] = { s, c }
  end
end
local allowed = total + weight <= limit
if allowed and weight > 0 then
  redis.call('HINCRBY', key, seg, weight)
  total = total + weight
  live[#live + 1] = { seg, weight }
end
table.sort(live, function(a, b) return a[1] < b[1] end)
local reset = 0
if #live > 0 then
  reset = (live[#live][1] + ring) * g - now
  redis.call('PEXPIRE', key, math.ceil(reset) + 1)
end
local retry = 0
if not allowed then
  local need = total + weight - limit
  local freed = 0
  for i = 1, #live do
    freed = freed + live[i][2]
    if freed >= need then
      retry = (live[i][1] + ring) * g - now
      break
    end
  end
end
return { allowed and 1 or 0, limit - total, math.ceil(retry), math.ceil(reset) }`)

/** KEYS[1] hash {tokens, ts}. ARGV: limit, window, burst, weight. @internal */
export const tokenBucketScript: Script = script(`${NOW}
local key = KEYS[1]
local rate = tonumber(ARGV[1]) / tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local weight = tonumber(ARGV[4])
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed = tokens >= weight
if allowed then tokens = tokens - weight end
local reset = (burst - tokens) / rate
if reset > 0 then
  redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', tostring(now))
  redis.call('PEXPIRE', key, math.ceil(reset) + 1)
else
  redis.call('DEL', key)
end
local retry = 0
if not allowed then retry = (weight - tokens) / rate end
return { allowed and 1 or 0, math.floor(tokens), math.ceil(retry), math.ceil(reset) }`)

/** KEYS[1] string: theoretical arrival time. ARGV: limit, window, burst, weight. @internal */
export const gcraScript: Script = script(`${NOW}
local key = KEYS[1]
local interval = tonumber(ARGV[2]) / tonumber(ARGV[1])
local tolerance = tonumber(ARGV[3]) * interval
local weight = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', key)) or now
if tat < now then tat = now end
local nextTat = tat + weight * interval
local allowAt = nextTat - tolerance
local allowed = now >= allowAt - 0.000001
local stored = tat
if allowed then
  stored = nextTat
  if stored > now then
    redis.call('SET', key, tostring(stored), 'PX', math.ceil(stored - now) + 1)
  end
end
local retry = 0
if not allowed then retry = allowAt - now end
local remaining = math.floor((tolerance - (stored - now)) / interval + 0.000001)
if remaining < 0 then remaining = 0 end
return { allowed and 1 or 0, remaining, math.ceil(retry), math.ceil(stored - now) }`)

/** KEYS[1] zset token -> lease expiry. ARGV: permits, leaseMs, token. @internal */
export const semaphoreAcquireScript: Script = script(`${NOW}
local key = KEYS[1]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZCARD', key) < tonumber(ARGV[1]) then
  local lease = tonumber(ARGV[2])
  redis.call('ZADD', key, now + lease, ARGV[3])
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', key, math.ceil(tonumber(last[2]) - now) + 1)
  return 1
end
return 0`)

/** KEYS[1] zset. ARGV: leaseMs, token. Returns 1 when the lease was still held. @internal */
export const semaphoreExtendScript: Script = script(`${NOW}
local key = KEYS[1]
local score = redis.call('ZSCORE', key, ARGV[2])
if not score or tonumber(score) <= now then
  redis.call('ZREM', key, ARGV[2])
  return 0
end
redis.call('ZADD', key, 'XX', now + tonumber(ARGV[1]), ARGV[2])
local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', key, math.ceil(tonumber(last[2]) - now) + 1)
return 1`)

/** KEYS[1] zset. ARGV: token, channel announcing the free permit ('' for none). @internal */
export const semaphoreReleaseScript: Script = script(`local n = redis.call('ZREM', KEYS[1], ARGV[1])
if n > 0 and ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], '1') end
return n`)

/** KEYS[1] zset. Live holders. @internal */
export const semaphoreCountScript: Script = script(`${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])`)
