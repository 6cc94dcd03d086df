-- wrk script that prepares the token endpoint's row: GET /oidc/authorize as
-- a signed-in developer (cookie from -H) for a trusted application answers
-- 303 to the redirect URI with a code; each thread writes the codes it gets
-- to $OIDC_CODES_DIR/codes-<n>.txt, one per line, for oidc_token.lua.
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  out = io.open(os.getenv("OIDC_CODES_DIR") .. "/codes-" .. id .. ".txt", "w")
end

function response(status, headers, body)
  local location = headers["Location"] or headers["location"] or ""
  local code = string.match(location, "[?&]code=([^&]+)")
  if code then
    out:write(code, "\n")
    out:flush()
  end
end

dofile("benches/report.lua")
