-- wrk script for the token endpoint's row: each request exchanges one code
-- made by oidc_codes.lua (thread n reads $OIDC_CODES_DIR/codes-<n>.txt) with
-- client_secret_basic ($OIDC_BASIC) and the redirect URI ($OIDC_REDIRECT).
-- A thread that runs out of codes stops (a code is single-use).
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

local codes, next_code = {}, 0
function init(args)
  for line in io.lines(os.getenv("OIDC_CODES_DIR") .. "/codes-" .. id .. ".txt") do
    codes[#codes + 1] = line
  end
end

local headers = {
  ["Content-Type"] = "application/x-www-form-urlencoded",
  ["Authorization"] = "Basic " .. (os.getenv("OIDC_BASIC") or ""),
}
local redirect = string.gsub(os.getenv("OIDC_REDIRECT") or "", "[^%w%-%._~]", function(c)
  return string.format("%%%02X", string.byte(c))
end)

function request()
  next_code = next_code + 1
  if next_code > #codes then
    wrk.thread:stop()
    next_code = #codes
  end
  return wrk.format("POST", "/oidc/token", headers,
    "grant_type=authorization_code&code=" .. codes[next_code] .. "&redirect_uri=" .. redirect)
end

dofile("benches/report.lua")
