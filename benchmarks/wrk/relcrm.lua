-- wrk script for the relcrm API benchmark (benchmarks/scenarios/api_load.py).
--
-- Every request carries "Authorization: Bearer $RELCRM_TOKEN". When
-- $RELCRM_POST_ACCOUNTS is set (comma-separated account ids), each request
-- instead POSTs an outbound call with two promises to one of those accounts,
-- taken in turn, so that concurrent writes do not all queue on one account's
-- row. At the end one line "RELCRM_JSON {...}" reports what the runner reads:
-- requests, duration, errors and the latency percentiles in microseconds
-- (wrk's own summary has no p95).

local token = os.getenv("RELCRM_TOKEN")
local accounts = {}
for id in string.gmatch(os.getenv("RELCRM_POST_ACCOUNTS") or "", "%d+") do
  accounts[#accounts + 1] = id
end
local occurred_at = os.getenv("RELCRM_OCCURRED_AT") or ""
local first_due = os.getenv("RELCRM_FIRST_DUE") or ""
local second_due = os.getenv("RELCRM_SECOND_DUE") or ""
local body_format = '{"account": %s, "kind": "call", "direction": "outbound", '
  .. '"occurred_at": "%s", "summary": "Benchmark call about the renewal", "sentiment": 0, '
  .. '"promises": [{"description": "Send the revised quote", "due_at": "%s"}, '
  .. '{"description": "Call back with the delivery date", "due_at": "%s"}]}'
local counter = 0

wrk.headers["Authorization"] = "Bearer " .. token
if #accounts > 0 then
  wrk.headers["Content-Type"] = "application/json"
end

function setup(thread)
  thread:set("offset", math.random(1, 100000))
end

-- Defined only for the POST: without it wrk sends one prepared GET, cheaper for wrk itself.
if #accounts > 0 then
  function request()
    counter = counter + 1
    local account = accounts[(counter + (offset or 0)) % #accounts + 1]
    local body = string.format(body_format, account, occurred_at, first_due, second_due)
    return wrk.format("POST", nil, nil, body)
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'RELCRM_JSON {"requests": %d, "duration_us": %d, "connect_errors": %d, '
      .. '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, '
      .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write,
    errors.status, errors.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.mean))
end
