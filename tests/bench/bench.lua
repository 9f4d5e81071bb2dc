-- wrk script of tests/bench/run.sh. One script for every scenario, chosen by its arguments:
--   wrk ... -s bench.lua URL -- get    KEY PATH_FORMAT COUNT
--       GET PATH_FORMAT, "%d" in it replaced by a random 1..COUNT (COUNT 0: the path as is)
--   wrk ... -s bench.lua URL -- orders KEY ID_FORMAT COUNT TAG
--       POST /v1/orders, one line of a random product (ID_FORMAT with 1..COUNT), quantity 1, and
--       an Idempotency-Key unique per request (TAG, thread, counter)
-- GETs are prepared in init(): a ring of COUNT random paths per thread (at most 100,000, so the
-- reads spread over the whole catalog), so the script costs wrk next to nothing per request; the
-- same script drives Portico and the nginx peer.
-- done() prints one line "BENCH_JSON {...}" that run.sh collects: requests, duration, req/s,
-- latency percentiles (ms), socket errors and non-2xx/3xx answers.

local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

local mode, key, pattern, count, tag
local ring, ring_size, position = {}, 0, 0

function init(args)
  mode = args[1] or "get"
  key = args[2] or ""
  pattern = args[3] or "/"
  count = tonumber(args[4] or "0") or 0
  tag = args[5] or "bench"
  math.randomseed(os.time() * 1000 + (id or 0) * 7919)
  local headers = {}
  if key ~= "" then headers["X-API-Key"] = key end
  if mode == "get" then
    ring_size = count > 0 and math.min(count, 100000) or 1
    for i = 1, ring_size do
      local path = pattern
      if count > 0 then path = string.format(pattern, math.random(1, count)) end
      ring[i] = wrk.format("GET", path, headers)
    end
  end
end

local address = '{"name":"Bench Kim","line1":"Teheran-ro 152","city":"Seoul",' ..
                '"postal_code":"06236","country":"KR"}'

function request()
  if mode == "orders" then
    counter = counter + 1
    local product = string.format(pattern, math.random(1, count))
    local body = '{"items":[{"product_id":"' .. product .. '","quantity":1}],' ..
                 '"shipping_address":' .. address .. ',"metadata":{"source":"bench"}}'
    return wrk.format("POST", "/v1/orders", {
      ["X-API-Key"] = key,
      ["Content-Type"] = "application/json",
      ["Idempotency-Key"] = string.format("%s-%d-%d", tag, id or 0, counter),
    }, body)
  end
  position = position % ring_size + 1
  return ring[position]
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  local function ms(p) return latency:percentile(p) / 1000.0 end
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_s":%.3f,"rps":%.1f,"bytes":%d,' ..
    '"latency_ms":{"p50":%.3f,"p90":%.3f,"p99":%.3f,"max":%.3f,"mean":%.3f},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"non2xx":%d}}\n',
    summary.requests, seconds, seconds > 0 and summary.requests / seconds or 0, summary.bytes,
    ms(50), ms(90), ms(99), latency.max / 1000.0, latency.mean / 1000.0,
    e.connect, e.read, e.write, e.timeout, e.status))
end
