-- wrk script for bench/http.sh: the request comes from the environment, the summary is
-- printed as one JSON line (prefixed BENCH_JSON) so the shell can make the table.
local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local auth = os.getenv("BENCH_AUTH")
local body = os.getenv("BENCH_BODY")
-- BENCH_PAGES=N: each request asks for the next of N pages (&page=1..N), so answers are
-- not all the same one.
local pages = tonumber(os.getenv("BENCH_PAGES") or "")

wrk.method = method
wrk.path = path
if auth and auth ~= "" then wrk.headers["Authorization"] = "Basic " .. auth end
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

local counter = 0
if pages then
  request = function()
    counter = counter + 1
    return wrk.format(nil, path .. "&page=" .. (counter % pages + 1))
  end
end

-- Status counts are per thread; wrk gives each thread its own Lua state, so they are
-- collected through the thread table in done().
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init() statuses = {} end
function response(status) statuses[status] = (statuses[status] or 0) + 1 end

function done(summary, latency, requests)
  local counts = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for code, n in pairs(s) do counts[code] = (counts[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(counts) do table.insert(parts, string.format('"%d":%d', code, n)) end
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"seconds":%.3f,"p50_us":%d,"p99_us":%d,"errors":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ",")))
end
