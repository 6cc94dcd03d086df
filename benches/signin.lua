-- wrk script for the "16 sign-ins in flight" load: every request is a
-- console sign-in POST, cycling through SIGNIN_EMAILS (comma-separated,
-- all with SIGNIN_PASSWORD). Each uses the same anonymous session cookie and
-- its CSRF token (SIGNIN_COOKIE, SIGNIN_CSRF): the cookie store is on the
-- client, so the pair stays valid for every post. Run it with -c16.
local emails, next_index = {}, 0
for e in string.gmatch(os.getenv("SIGNIN_EMAILS") or "", "[^,]+") do
  emails[#emails + 1] = e
end
local password = os.getenv("SIGNIN_PASSWORD") or ""
local headers = {
  ["Content-Type"] = "application/x-www-form-urlencoded",
  ["Cookie"] = os.getenv("SIGNIN_COOKIE") or "",
}

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

local csrf = urlencode(os.getenv("SIGNIN_CSRF") or "")
local encoded_password = urlencode(password)

function request()
  next_index = next_index % #emails + 1
  local body = "email=" .. urlencode(emails[next_index])
    .. "&password=" .. encoded_password
    .. "&csrf_token=" .. csrf
  return wrk.format("POST", "/admin/sign-in", headers, body)
end

-- Every answer's status is counted (a sign-in is slow, so this costs
-- nothing): a sign-in that worked answers 303.
local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  statuses = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

-- Sign-ins that were neither 2xx nor 3xx count as wrk status errors; report
-- them like report.lua does, with the count of each status.
function done(summary, latency, requests)
  local counts = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses") or {}) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    parts[#parts + 1] = status .. ":" .. n
  end
  table.sort(parts)
  local e = summary.errors
  io.write(string.format(
    "REPORT requests=%d duration_us=%d rps=%.2f p50_us=%d p99_us=%d max_us=%d status_errors=%d socket_errors=%d timeouts=%d statuses=%s\n",
    summary.requests, summary.duration,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write, e.timeout, table.concat(parts, ",")))
end
