// The sliding-window counter of ratelimit_sliding_window (plugins/ratelimit_common), run inside
// Redis as one script, so every gateway node counts against the same numbers atomically.
//
// One hash per key: field `w` is the window length the key is counted under (another length
// starts it afresh, as locally), and one field per bucket of 1/60 window holds that bucket's
// count. Time is Redis's own clock (TIME), so nodes whose clocks differ still agree. The estimate,
// the remaining count and both waits are computed exactly as WindowCounts does, in doubles
// (exact for limit × window below 2^53, e.g. 10^9 requests per day).
//
//   EVALSHA sha 1 <key> acquire <limit> <window_ms>  → {allowed 0|1, remaining, reset_ms, retry_ms}
//   EVALSHA sha 1 <key> refund  <limit> <window_ms>  → {1, 0, 0, 0}
#pragma once

namespace portico::ratelimit_redis {

inline constexpr const char* kWindowScript = R"lua(
local op, limit, W = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local N = 60
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if tonumber(redis.call('HGET', key, 'w')) ~= W then
  redis.call('DEL', key)
  redis.call('HSET', key, 'w', W)
end
local tick = now * N
local head = math.floor(tick / W)
local offset = tick - head * W
local counts = {}
local fields = redis.call('HGETALL', key)
for i = 1, #fields, 2 do
  local f = fields[i]
  if f ~= 'w' then
    local b = tonumber(f)
    if b == nil or b < head - N then
      redis.call('HDEL', key, f)
    elseif b <= head then
      counts[b - (head - N)] = tonumber(fields[i + 1])
    end
  end
end
local function c(k) return counts[k] or 0 end
redis.call('PEXPIRE', key, 2 * W + 1000)
if op == 'refund' then
  for k = N, 0, -1 do
    if c(k) > 0 then
      redis.call('HINCRBY', key, string.format('%d', head - N + k), -1)
      break
    end
  end
  return {1, 0, 0, 0}
end
local recent = 0
for k = 1, N do recent = recent + c(k) end
local used = recent * W + c(0) * (W - offset)
local allowed = 0
if used < limit * W then
  allowed = 1
  redis.call('HINCRBY', key, string.format('%d', head), 1)
  counts[N] = c(N) + 1
  used = used + W
end
local remaining = math.max(0, limit - math.floor(used / W))
local function ms_until(target)
  local excess = used - target
  if excess <= 0 then return 0 end
  excess = excess + c(0) * offset
  for k = 0, N do
    local count = c(k)
    if count > 0 then
      local decay = count * W
      if excess <= decay then
        return math.ceil((k * W + math.ceil(excess / count) - offset) / N)
      end
      excess = excess - decay
    end
  end
  return math.ceil(((N + 1) * W - offset) / N)
end
local function ms_until_whole()
  if used <= W - 1 then return 0 end
  local k = N
  while k > 0 and c(k) == 0 do k = k - 1 end
  local x = W - math.floor((W - 1) / c(k))
  return math.ceil((k * W + x - offset) / N)
end
local retry = 0
if allowed == 0 then retry = ms_until(limit * W - 1) end
return {allowed, remaining, ms_until_whole(), retry}
)lua";

}  // namespace portico::ratelimit_redis
