#!/usr/bin/env bash
# Load harness for "Load harness, demo data, and speed at 100,000 accounts".
#
# Builds the release binary, seeds a fresh temporary database, starts the
# portal on a free 127.0.0.1 port, signs in as the administrator and measures
# each page with wrk. Prints one table and writes it to benches/results/latest.md.
# See benches/README.md for what each row means and the targets.
#
# Everything can be overridden from the environment, e.g.
#   SEED_ACCOUNTS=20000 DURATION=5s benches/run.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# ---- settings --------------------------------------------------------------------

SEED_ACCOUNTS=${SEED_ACCOUNTS:-100000}
SEED_GROUPS=${SEED_GROUPS:-1000}
SEED_PRODUCTS=${SEED_PRODUCTS:-1000}
SEED_SUBSCRIPTIONS=${SEED_SUBSCRIPTIONS:-100000}
SEED_NUMBER=${SEED_NUMBER:-1}

THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
DURATION=${DURATION:-10s}

# "Next" links followed from page 1: 999 steps of 50 rows reach rows 49,951-50,000.
PAGE_STEPS=${PAGE_STEPS:-999}
SEARCH_FRAGMENT=${SEARCH_FRAGMENT:-son}
SIGNINS_IN_FLIGHT=${SIGNINS_IN_FLIGHT:-16}
# Accounts the sign-ins take turns with: three per sign-in in flight, so that
# one account's attempts do not overlap and its throttle (S-3, which counts
# each attempt as a failure until its password is verified) stays out of it.
SIGNIN_ACCOUNTS=${SIGNIN_ACCOUNTS:-$((3 * SIGNINS_IN_FLIGHT))}

# Pages of later issues. A row is skipped ("n/a – not built yet") while its URL
# answers 404 or a "coming soon" page, or when its variable is set empty.
GROUPS_URL=${GROUPS_URL-/admin/groups}
MEMBERS_URL=${MEMBERS_URL-/admin/groups/g0001/members}
ACCESS_URL=${ACCESS_URL-/admin/products/p0001/access}
HOME_URL=${HOME_URL-/admin}
# The developer portal: signed in (through PORTAL_SIGN_IN_URL, a form with
# email, password and csrf_token like the console's) as the seeded developer
# who is in 20 groups.
PORTAL_SIGN_IN_URL=${PORTAL_SIGN_IN_URL-/sign-in}
PORTAL_PRODUCTS_URL=${PORTAL_PRODUCTS_URL-/products}
# The gateway key check, sent without a cookie. {key} is replaced by the
# primary key of a seeded active subscription, in the URL and in the header.
# e.g. KEY_CHECK_URL='/gateway/check?subscription-key={key}' to send it in the query.
KEY_CHECK_URL=${KEY_CHECK_URL-/gateway/check}
KEY_CHECK_HEADER=${KEY_CHECK_HEADER-Ocp-Apim-Subscription-Key: {key}}
# The Add-to-group toggle for 1,000 accounts (timed, not a throughput): no
# measurement is written yet; set TOGGLE_URL once the feature exists and add it.
TOGGLE_URL=${TOGGLE_URL-}

# Pages that say this are placeholders, not the real page.
NOT_BUILT_PATTERN=${NOT_BUILT_PATTERN:-is coming soon}

ADMIN_EMAIL=bench-admin@example.org
ADMIN_PASSWORD='bench harness violet anchor 93'
SEEDED_PASSWORD='seeded password 42!'   # portal::seed::PASSWORD

RESULTS=${RESULTS:-benches/results/latest.md}
PORTAL_BIN=${CARGO_TARGET_DIR:-target}/release/portal

# ---- helpers ---------------------------------------------------------------------

section() { printf '\n==== %s ====\n' "$*" >&2; }
say() { printf '%s\n' "$*" >&2; }
die() { printf 'benches/run.sh: %s\n' "$*" >&2; exit 1; }

WORK=$(mktemp -d -t portal-bench.XXXXXX)
SERVER_PID=
SIGNIN_PID=
cleanup() {
  local status=$?
  [[ -n $SIGNIN_PID ]] && kill "$SIGNIN_PID" 2>/dev/null || true
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -f $WORK/server.log ]]; then
    say "---- last lines of the server log ----"
    tail -n 30 "$WORK/server.log" >&2 || true
  fi
  if [[ -n ${KEEP_WORK:-} ]]; then
    say "kept $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

# free_port: a port nothing listens on, below Linux's ephemeral range
# (32768-60999), where wrk's and nginx's own connections take theirs: a
# port chosen there could be some connection's by the time it is bound.
free_port() {
  local port
  for port in $(shuf -i 20000-32767 -n 100); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  die "no free port found"
}

# The Cookie header value from a curl cookie jar.
cookie_header() {
  awk -F'\t' '(/^#HttpOnly_/ || !/^#/) && NF >= 7 { printf "%s%s=%s", sep, $6, $7; sep = "; " }' "$1"
}

# The value of the hidden csrf_token input of an HTML page on stdin.
csrf_of() {
  grep -o '<input[^>]*name="csrf_token"[^>]*>' | head -n 1 | grep -o 'value="[^"]*"' | sed 's/^value="//; s/"$//'
}

# Decodes the character references askama writes into attributes (e.g. &#38;).
html_unescape() {
  perl -pe 's/&#[xX]([0-9a-fA-F]+);/chr(hex($1))/ge; s/&#([0-9]+);/chr($1)/ge;
            s/&quot;/"/g; s/&apos;/\x27/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/&/g'
}

# sign_in JAR FORM_PATH EMAIL PASSWORD -> the POST's status code
sign_in() {
  local jar=$1 form=$2 email=$3 password=$4 csrf
  csrf=$(curl -sS -c "$jar" -b "$jar" "$BASE$form" | csrf_of)
  curl -sS -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" \
    --data-urlencode "email=$email" --data-urlencode "password=$password" \
    --data-urlencode "csrf_token=$csrf" "$BASE$form"
}

# Renews the console session cookie (the server rewrites it at most once a
# minute to record activity; wrk never would), then prints the Cookie value.
admin_cookie() {
  curl -sS -o /dev/null -b "$ADMIN_JAR" -c "$ADMIN_JAR" "$BASE/admin/users"
  cookie_header "$ADMIN_JAR"
}

# probe URL [COOKIE] -> "200", "404", "not-built", or another status; the body
# goes to $WORK/probe.html.
probe() {
  local url=$1 cookie=${2:-} header=${PROBE_HEADER:-} code
  code=$(curl -sS -o "$WORK/probe.html" -w '%{http_code}' ${cookie:+-H "Cookie: $cookie"} \
    ${header:+-H "$header"} "$BASE$url")
  if [[ $code == 200 ]] && grep -q "$NOT_BUILT_PATTERN" "$WORK/probe.html"; then
    echo not-built
  else
    echo "$code"
  fi
}

# The table: one line per row, fields separated by '|'.
ROWS=()
HEALTHZ_RPS=

thousands() { sed ':a; s/\B[0-9]\{3\}\>/,&/; ta' <<<"$1"; }
fmt_ms() { awk -v us="$1" 'BEGIN { printf "%.2f ms", us / 1000 }'; }
fmt_rps() { awk -v r="$1" 'BEGIN { printf "%.0f", r }'; }

# verdict RPS P99_US RATIO_PCT MIN_RPS MAX_P99_MS MIN_RATIO_PCT -> yes/no ('-' = no limit)
verdict() {
  awk -v rps="$1" -v p99="$2" -v ratio="$3" -v min_rps="$4" -v max_p99="$5" -v min_ratio="$6" 'BEGIN {
    ok = 1
    if (min_rps != "-" && rps + 0 < min_rps + 0) ok = 0
    if (max_p99 != "-" && p99 / 1000 > max_p99 + 0) ok = 0
    if (min_ratio != "-" && ratio + 0 < min_ratio + 0) ok = 0
    print (ok ? "yes" : "**no**")
  }'
}

# Each row also logs the server's peak RSS so far, to tell which row raised it.
add_row() {
  ROWS+=("$(IFS='|'; echo "$*")")
  if [[ -n $SERVER_PID && -r /proc/$SERVER_PID/status ]]; then
    say "  VmHWM after \"$1\": $(awk '/^VmHWM:/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$SERVER_PID/status")"
  fi
}
skip_row() { # NAME TARGET WHY
  say "  $1: n/a – ${3}"
  add_row "$1" "n/a – not built yet" "" "" "" "$2" "" "$3"
}

# measure NAME URL TARGET MIN_RPS MAX_P99_MS MIN_RATIO_PCT NOTE [wrk args...]
# Runs wrk with benches/report.lua and adds a row. The cookie (if any) is
# checked before and after: wrk counts a redirect to the sign-in page as a
# success, so a run whose cookie did not answer 200 throughout is flagged.
LAST_P99_US=
measure() {
  local name=$1 url=$2 target=$3 min_rps=$4 max_p99=$5 min_ratio=$6 note=$7
  shift 7
  local before after line
  before=$(probe "$url" "${COOKIE:-}")
  say "  $name: GET $url ($DURATION, $CONNECTIONS connections)"
  line=$(wrk_report "$url" "$@")
  after=$(probe "$url" "${COOKIE:-}")
  report_row "$name" "$target" "$min_rps" "$max_p99" "$min_ratio" "$note" "$before$after" "$line"
}

# wrk_report URL [wrk args...]: one wrk run of $DURATION at $BASE$URL with
# benches/report.lua; prints its REPORT line.
wrk_report() {
  local url=$1 cookie=${COOKIE:-} out
  shift
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s benches/report.lua \
    ${cookie:+-H "Cookie: $cookie"} "$@" "$BASE$url")
  printf '%s\n' "$out" >>"$WORK/wrk.log"
  grep '^REPORT ' <<<"$out" || die "wrk printed no report for $url: $out"
}

# report_field NAME LINE: a value of a REPORT line.
report_field() { sed "s/.* $1=\([0-9.]*\).*/\1/" <<<"$2"; }

# report_row NAME TARGET MIN_RPS MAX_P99_MS MIN_RATIO_PCT NOTE PROBES LINE:
# the row of one REPORT line; PROBES is the statuses the URL answered
# before and after, run together ("200200" when all is well).
report_row() {
  local name=$1 target=$2 min_rps=$3 max_p99=$4 min_ratio=$5 note=$6 probes=$7 line=$8
  local requests rps p50 p99 status_errors socket_errors timeouts
  requests=$(report_field requests "$line")
  rps=$(report_field rps "$line")
  p50=$(report_field p50_us "$line")
  p99=$(report_field p99_us "$line")
  status_errors=$(report_field status_errors "$line")
  socket_errors=$(report_field socket_errors "$line")
  timeouts=$(report_field timeouts "$line")
  local flags=()
  [[ $probes == 200200 ]] || flags+=("⚠ answered ${probes:0:3} before, ${probes:3} after the run (not 200)")
  ((status_errors == 0)) || flags+=("⚠ $status_errors of $requests responses non-2xx/3xx")
  ((socket_errors == 0)) || flags+=("⚠ $socket_errors socket errors")
  ((timeouts == 0)) || flags+=("⚠ $timeouts requests timed out (no answer within wrk's 2 s)")
  [[ -z $note ]] || flags=("$note" "${flags[@]}")
  local ratio=100
  if [[ -z $HEALTHZ_RPS ]]; then
    HEALTHZ_RPS=$rps
  else
    ratio=$(awk -v r="$rps" -v h="$HEALTHZ_RPS" 'BEGIN { printf "%.1f", 100 * r / h }')
  fi
  local met
  met=$(verdict "$rps" "$p99" "$ratio" "$min_rps" "$max_p99" "$min_ratio")
  [[ $min_rps$max_p99$min_ratio == --- ]] && met="–"
  ((status_errors == 0 && socket_errors == 0 && timeouts == 0)) || met="**no**"
  [[ $probes == 200200 ]] || met="**no**"
  LAST_P99_US=$p99
  add_row "$name" "$(fmt_rps "$rps")" "$(fmt_ms "$p50")" "$(fmt_ms "$p99")" "${ratio}%" \
    "$target" "$met" "$(IFS=';'; echo "${flags[*]}")"
}

# measure_or_skip NAME URL TARGET MIN_RPS MAX_P99 MIN_RATIO NOTE: measures if
# the URL is configured and built.
measure_or_skip() {
  local name=$1 url=$2 target=$3
  if [[ -z $url ]]; then
    skip_row "$name" "$target" "URL not configured"
    return
  fi
  local code
  code=$(probe "$url" "${COOKIE:-}")
  case $code in
    404 | not-built) skip_row "$name" "$target" "$url answers ${code/not-built/a placeholder page}" ;;
    *) measure "$@" ;;
  esac
}

# ---- tools and build ---------------------------------------------------------------

section "Tools"
need_apt=()
command -v wrk >/dev/null || need_apt+=(wrk)
command -v curl >/dev/null || need_apt+=(curl)
if ((${#need_apt[@]})); then
  sudo=
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  say "installing ${need_apt[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
say "$(wrk --version 2>&1 | head -n 1 || true)"
say "$(curl --version | head -n 1)"

section "Build (cargo build --release)"
cargo build --release --bin portal

# ---- seed ----------------------------------------------------------------------------

section "Seed a fresh database"
export DATABASE_URL="sqlite://$WORK/portal.db" DATA_DIR="$WORK" RUST_LOG=warn
seed_out=$("$PORTAL_BIN" seed --accounts "$SEED_ACCOUNTS" --groups "$SEED_GROUPS" \
  --products "$SEED_PRODUCTS" --subscriptions "$SEED_SUBSCRIPTIONS" --seed "$SEED_NUMBER")
printf '%s\n' "$seed_out" >&2
SEED_SECS=$(sed -n 's/^Seeded .* in \([0-9.]*\) s$/\1/p' <<<"$seed_out")
MANY_GROUPS_EMAIL=$(sed -n 's/^A developer in exactly [0-9]* groups: //p' <<<"$seed_out")
SAMPLE_KEY=$(sed -n 's/^An active subscription of .*: primary key \([0-9a-f]*\)$/\1/p' <<<"$seed_out")
DB_SIZE=$(du -m "$WORK/portal.db" | cut -f1)

# ---- server -------------------------------------------------------------------------

section "Start the portal"
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
# The toggle row reads the server's own timing of that one change (info).
ADMIN_EMAIL=$ADMIN_EMAIL ADMIN_PASSWORD=$ADMIN_PASSWORD BIND="127.0.0.1:$PORT" BASE_URL=$BASE \
  RUST_LOG="warn,portal::services::groups=info" "$PORTAL_BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || die "the portal exited at start"
  sleep 0.2
done
curl -fsS -o /dev/null "$BASE/healthz" || die "the portal did not answer /healthz"
say "portal (pid $SERVER_PID) at $BASE"

ADMIN_JAR=$WORK/admin.jar
code=$(sign_in "$ADMIN_JAR" /admin/sign-in "$ADMIN_EMAIL" "$ADMIN_PASSWORD")
[[ $code == 303 ]] || die "administrator sign-in answered $code, not 303"
COOKIE=$(admin_cookie)
[[ $(probe /admin/users "$COOKIE") == 200 ]] || die "the administrator's cookie does not open /admin/users"
say "signed in as $ADMIN_EMAIL"

# ---- measurements ----------------------------------------------------------------------

section "Measure"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_BEFORE%% *}" 'BEGIN { exit !(l > 1.0) }'; then
  say "  note: load average $LOAD_BEFORE before measuring: other work on this machine will skew the numbers"
fi

COOKIE='' measure "/healthz (the ceiling)" /healthz "–" - - - ""

COOKIE=$(admin_cookie)
measure "Users tab, page 1" /admin/users "≥2,000 req/s, p99 ≤15 ms" 2000 15 - ""
PAGE1_P99=$LAST_P99_US

# Page ~50,000: follow rel="next" from page 1 the way a person would.
say "  following $PAGE_STEPS \"Next\" links from page 1..."
url=/admin/users
for ((i = 0; i < PAGE_STEPS; i++)); do
  next=$(curl -sS -H "Cookie: $COOKIE" "$BASE$url" |
    grep -o '<a [^>]*rel="next"[^>]*>' | head -n 1 | grep -o 'href="[^"]*"' |
    sed 's/^href="//; s/"$//' | html_unescape) || true
  [[ -n $next ]] || die "page $((i + 1)) has no rel=\"next\" link (url $url)"
  url=$next
done
DEEP_URL=$url
DEEP_FIRST_ROW=$((PAGE_STEPS * 50 + 1))
say "  page $((PAGE_STEPS + 1)): $DEEP_URL"
COOKIE=$(admin_cookie)
measure "Users tab, page $((PAGE_STEPS + 1)) (rows $(thousands $DEEP_FIRST_ROW)–$(thousands $((DEEP_FIRST_ROW + 49))))" "$DEEP_URL" \
  "≥2,000 req/s, p99 ≤15 ms" 2000 15 - ""

COOKIE=$(admin_cookie)
SEARCH_URL="/admin/users?q=$SEARCH_FRAGMENT"
SEARCH_COUNT=$(curl -sS -H "Cookie: $COOKIE" "$BASE$SEARCH_URL" |
  grep -o '<p class="count" role="status">[^<]*</p>' | sed 's/<[^>]*>//g' | html_unescape) || true
measure "Search \"$SEARCH_FRAGMENT\" with count" "$SEARCH_URL" "≥1,000 req/s, p99 ≤25 ms" 1000 25 - \
  "shows \"${SEARCH_COUNT:-no count found}\""

ACCOUNT_ID=$(curl -sS -H "Cookie: $COOKIE" "$BASE/admin/users" | grep -o '/admin/users/[0-9a-f]\{16\}' | head -n 1)
[[ -n $ACCOUNT_ID ]] || die "no account link on page 1"
COOKIE=$(admin_cookie)
measure "Account page" "$ACCOUNT_ID" "≥2,000 req/s" 2000 - - ""

COOKIE=$(admin_cookie)
measure_or_skip "Groups tab" "$GROUPS_URL" "≥2,000 req/s" 2000 - - ""
COOKIE=$(admin_cookie)
measure_or_skip "Group's Members page" "$MEMBERS_URL" "≥2,000 req/s" 2000 - - ""
COOKIE=$(admin_cookie)
measure_or_skip "Product's Access control page" "$ACCESS_URL" "≥2,000 req/s" 2000 - - ""
# The console home's render time: one request at a time, so the latency is
# the page's own and not a queue's.
COOKIE=$(admin_cookie)
CONNECTIONS=1 THREADS=1 measure_or_skip "Console home (one request at a time)" "$HOME_URL" \
  "p99 ≤10 ms" - 10 - ""

# The developer portal's product list, as the developer in 20 groups.
portal_target="≥2,000 req/s"
if [[ -z $PORTAL_SIGN_IN_URL || -z $PORTAL_PRODUCTS_URL ]]; then
  skip_row "Portal product list (developer in 20 groups)" "$portal_target" "URL not configured"
elif [[ -z $MANY_GROUPS_EMAIL ]]; then
  skip_row "Portal product list (developer in 20 groups)" "$portal_target" "no seeded developer in 20 groups"
else
  code=$(probe "$PORTAL_SIGN_IN_URL")
  if [[ $code == 404 || $code == not-built ]]; then
    skip_row "Portal product list (developer in 20 groups)" "$portal_target" "$PORTAL_SIGN_IN_URL answers ${code/not-built/a placeholder page}"
  else
    DEV_JAR=$WORK/developer.jar
    code=$(sign_in "$DEV_JAR" "$PORTAL_SIGN_IN_URL" "$MANY_GROUPS_EMAIL" "$SEEDED_PASSWORD")
    [[ $code == 303 ]] || say "  portal sign-in as $MANY_GROUPS_EMAIL answered $code, not 303"
    curl -sS -o /dev/null -b "$DEV_JAR" -c "$DEV_JAR" "$BASE$PORTAL_PRODUCTS_URL"
    COOKIE=$(cookie_header "$DEV_JAR") measure_or_skip "Portal product list (developer in 20 groups)" \
      "$PORTAL_PRODUCTS_URL" "$portal_target" 2000 - - "as $MANY_GROUPS_EMAIL"
  fi
fi

key_target="≥40% of /healthz, p99 ≤2 ms"
if [[ -z $KEY_CHECK_URL ]]; then
  skip_row "Gateway key check" "$key_target" "KEY_CHECK_URL not configured"
elif [[ -z $SAMPLE_KEY ]]; then
  skip_row "Gateway key check" "$key_target" "no seeded active subscription"
else
  key_url=${KEY_CHECK_URL//\{key\}/$SAMPLE_KEY}
  key_header=${KEY_CHECK_HEADER//\{key\}/$SAMPLE_KEY}
  if [[ -n $key_header ]]; then
    COOKIE='' PROBE_HEADER=$key_header measure_or_skip "Gateway key check" "$key_url" "$key_target" - 2 40 "" -H "$key_header"
  else
    COOKIE='' measure_or_skip "Gateway key check" "$key_url" "$key_target" - 2 40 ""
  fi

# The management API (issue 13), with a token made on the console's
# Management API page, sent as a bearer token without a cookie.
API=/subscriptions/bench/resourceGroups/bench/providers/Microsoft.ApiManagement/service/bench
api_csrf=$(curl -sS -H "Cookie: $COOKIE" "$BASE/admin/api" | csrf_of)
API_TOKEN=$(curl -sS -H "Cookie: $COOKIE" --data-urlencode "csrf_token=$api_csrf" \
  --data-urlencode "name=bench" --data-urlencode "days=30" "$BASE/admin/api/tokens" |
  grep -o 'id="secret"[^>]*value="[^"]*"' | sed 's/.*value="//; s/"$//')
if [[ -z $API_TOKEN ]]; then
  for row in "Management API: list users (\$top=100)" "Management API: users with \$filter=contains(email,'son')" "Management API: get a user"; do
    skip_row "$row" "" "no token could be made on /admin/api"
  done
else
  api_auth="Authorization: Bearer $API_TOKEN"
  COOKIE='' PROBE_HEADER=$api_auth measure "Management API: list users (\$top=100)" \
    "$API/users?api-version=2024-05-01&%24top=100" "≥2,000 req/s" 2000 - - "" -H "$api_auth"
  COOKIE='' PROBE_HEADER=$api_auth measure "Management API: users with \$filter=contains(email,'son')" \
    "$API/users?api-version=2024-05-01&%24filter=contains(email%2C%27son%27)" "≥1,000 req/s" 1000 - - "" -H "$api_auth"
  COOKIE='' PROBE_HEADER=$api_auth measure "Management API: get a user" \
    "$API/users/${ACCOUNT_ID##*/}?api-version=2024-05-01" "≥5,000 req/s" 5000 - - "" -H "$api_auth"
fi
COOKIE=$(admin_cookie)
fi

# The OpenID provider (issue 14): discovery and JWKS without a cookie;
# userinfo with an access token; the token endpoint exchanging codes made
# just before by GET /oidc/authorize (benches/oidc_codes.lua) for a trusted
# confidential application, as the seeded developer in 20 groups.
section "OpenID provider"
COOKIE='' measure "OpenID discovery" /.well-known/openid-configuration "≥20,000 req/s" 20000 - - ""
COOKIE='' measure "OpenID JWKS" /oidc/jwks "≥20,000 req/s" 20000 - - ""
OIDC_REDIRECT="http://127.0.0.1:9/callback"
COOKIE=$(admin_cookie)
app_csrf=$(curl -sS -H "Cookie: $COOKIE" "$BASE/admin/applications/add" | csrf_of)
app_page=$(curl -sS -H "Cookie: $COOKIE" --data-urlencode "csrf_token=$app_csrf" \
  --data-urlencode "name=Bench dashboard" --data-urlencode "redirect_uris=$OIDC_REDIRECT" \
  --data-urlencode "kind=confidential" --data-urlencode "trusted=on" --data-urlencode "alg=RS256" \
  --data-urlencode "token_groups=all" --data-urlencode "sign_in_groups=everyone" "$BASE/admin/applications/add")
OIDC_CLIENT=$(grep -o 'id="client-id">[^<]*' <<<"$app_page" | sed 's/.*>//')
OIDC_SECRET=$(grep -o 'id="client-secret"[^>]*value="[^"]*"' <<<"$app_page" | sed 's/.*value="//; s/"$//')
OIDC_JAR=$WORK/oidc-developer.jar
if [[ -z $OIDC_CLIENT || -z $OIDC_SECRET || -z $MANY_GROUPS_EMAIL ]]; then
  for row in "OpenID userinfo" "OpenID token endpoint (code exchange, RS256)"; do
    skip_row "$row" "" "no application could be added on /admin/applications/add, or no seeded developer"
  done
else
  code=$(sign_in "$OIDC_JAR" /sign-in "$MANY_GROUPS_EMAIL" "$SEEDED_PASSWORD")
  [[ $code == 303 ]] || say "  portal sign-in as $MANY_GROUPS_EMAIL answered $code, not 303"
  OIDC_COOKIE=$(cookie_header "$OIDC_JAR")
  authorize_url="/oidc/authorize?response_type=code&client_id=$OIDC_CLIENT&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback&scope=openid%20email%20profile%20groups&state=bench&nonce=bench"
  OIDC_BASIC=$(printf '%s:%s' "$OIDC_CLIENT" "$OIDC_SECRET" | base64 -w0)
  one_code=$(curl -sS -o /dev/null -w '%{redirect_url}' -H "Cookie: $OIDC_COOKIE" "$BASE$authorize_url" | grep -o 'code=[^&]*' | cut -d= -f2)
  ACCESS_TOKEN=$(curl -sS -H "Authorization: Basic $OIDC_BASIC" --data-urlencode "grant_type=authorization_code" \
    --data-urlencode "code=$one_code" --data-urlencode "redirect_uri=$OIDC_REDIRECT" "$BASE/oidc/token" |
    grep -o '"access_token":"[^"]*"' | cut -d'"' -f4)
  bearer="Authorization: Bearer $ACCESS_TOKEN"
  COOKIE='' PROBE_HEADER=$bearer measure "OpenID userinfo" /oidc/userinfo "≥5,000 req/s" 5000 - - "" -H "$bearer"
  # Codes live 60 s: made for a few seconds, then exchanged at once.
  mkdir -p "$WORK/codes"
  OIDC_CODES_DIR=$WORK/codes wrk -t"$THREADS" -c"$CONNECTIONS" -d6s -s benches/oidc_codes.lua \
    -H "Cookie: $OIDC_COOKIE" "$BASE$authorize_url" >"$WORK/codes.out" 2>&1
  n_codes=$(cat "$WORK"/codes/codes-*.txt | wc -l)
  say "  made $(thousands "$n_codes") codes with GET /oidc/authorize"
  token_secs=5
  token_out=$(OIDC_CODES_DIR=$WORK/codes OIDC_BASIC=$OIDC_BASIC OIDC_REDIRECT=$OIDC_REDIRECT \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d${token_secs}s --latency -s benches/oidc_token.lua "$BASE/oidc/token")
  printf '%s\n' "$token_out" >>"$WORK/wrk.log"
  line=$(grep '^REPORT ' <<<"$token_out") || die "wrk printed no report for the token endpoint: $token_out"
  t_req=$(report_field requests "$line")
  t_rps=$(report_field rps "$line")
  t_p50=$(report_field p50_us "$line")
  t_p99=$(report_field p99_us "$line")
  t_err=$(report_field status_errors "$line")
  t_ok=$(verdict "$t_rps" "$t_p99" 100 500 20 -)
  ((t_err == 0)) || t_ok="**no**"
  t_note="$(thousands "$t_req") of $(thousands "$n_codes") codes exchanged in ${token_secs} s (a thread out of codes stops, so the rate is a floor)"
  ((t_err == 0)) || t_note+=";⚠ $t_err answers not 2xx"
  add_row "OpenID token endpoint (code exchange, RS256)" "$(fmt_rps "$t_rps")" "$(fmt_ms "$t_p50")" "$(fmt_ms "$t_p99")" \
    "$(awk -v r="$t_rps" -v h="$HEALTHZ_RPS" 'BEGIN { printf "%.1f%%", 100 * r / h }')" "≥500 exchanges/s, p99 ≤20 ms" "$t_ok" "$t_note"
fi
COOKIE=$(admin_cookie)

# One Add-to-group toggle of 1,000 accounts ticked on the Users tab: the
# first 20 pages' ids, posted as the page's form would, into group g0002.
section "Add-to-group toggle"
COOKIE=$(admin_cookie)
toggle_ids=$WORK/toggle-ids.txt
: >"$toggle_ids"
page_url=/admin/users
for _ in $(seq 20); do
  html=$(curl -sS -H "Cookie: $COOKIE" "$BASE$page_url")
  grep -o 'name="ids" value="[0-9a-f]*"' <<<"$html" | sed 's/.*value="//; s/"$//' >>"$toggle_ids"
  page_url=$(grep -o '<a href="[^"]*" rel="next"' <<<"$html" | head -n 1 | sed 's/^<a href="//; s/" rel="next"$//' | html_unescape)
  [[ -n $page_url ]] || break
done
toggle_token=$(curl -sS -H "Cookie: $COOKIE" "$BASE/admin/users" | csrf_of)
toggle_form=$WORK/toggle-form.txt
{ printf 'csrf_token=%s&group=g0002&scope=page' "$toggle_token"; sed 's/^/\&ids=/' "$toggle_ids" | tr -d '\n'; } >"$toggle_form"
toggle_http=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' -H "Cookie: $COOKIE" \
  -H "Origin: $BASE" --data-binary "@$toggle_form" -H 'Content-Type: application/x-www-form-urlencoded' "$BASE/admin/users/toggle")
toggle_us=$(grep 'group membership toggled' "$WORK/server.log" | tail -n 1 | grep -o 'micros=[0-9]*' | cut -d= -f2 || true)
if [[ -n $toggle_us ]]; then
  toggle_ms=$(awk -v us="$toggle_us" 'BEGIN { printf "%.1f", us / 1000 }')
  toggle_ok=$(awk -v us="$toggle_us" 'BEGIN { print (us <= 25000) ? "yes" : "**no**" }')
  add_row "Add-to-group toggle, $(wc -l <"$toggle_ids") accounts" "" "$toggle_ms ms in the server" "" "" "≤25 ms" "$toggle_ok" \
    "HTTP ${toggle_http%% *}, $(awk -v s="${toggle_http##* }" 'BEGIN { printf "%.1f ms", s * 1000 }') seen by curl"
else
  skip_row "Add-to-group toggle, 1,000 accounts" "≤25 ms" "no timing in the server log (HTTP $toggle_http)"
fi

# Add to group over every account (G5: "all matching", an empty search) into
# TOGGLE_ALL_GROUP, while other writes keep coming until it has answered:
# portal sign-ins (POST /sign-in, the seeded developer) one after another,
# WRITE_EVERY seconds apart, and beside them, on their own, subscriptions
# (POST /products/{id}/subscribe, as that developer, to a product it sees
# with no per-developer limit). Each waits for the write lock while the
# toggle holds it; the rows give the median and the slowest of each. The toggle's own row reads the server's timing (micros,
# and lock_micros: from taking the write lock to the commit).
section "Add-to-group toggle of every account, with other writes"
TOGGLE_ALL_GROUP=${TOGGLE_ALL_GROUP:-g0002}
WRITE_EVERY=${WRITE_EVERY:-0.1}
all_name="Add-to-group toggle, every account"
signin_name="… a portal sign-in during it (POST ${PORTAL_SIGN_IN_URL:-/sign-in})"
subscribe_name="… a subscription during it (POST /products/{id}/subscribe)"
if [[ -z $MANY_GROUPS_EMAIL || -z $PORTAL_SIGN_IN_URL || $(probe "$PORTAL_SIGN_IN_URL") != 200 ]]; then
  skip_row "$all_name" "≤1,500 ms; other writes ≤1 s" "no seeded developer or no portal sign-in"
else
  # The developer, signed in, and a product it may subscribe to again and again.
  W_DEV_JAR=$WORK/writer.jar
  code=$(sign_in "$W_DEV_JAR" "$PORTAL_SIGN_IN_URL" "$MANY_GROUPS_EMAIL" "$SEEDED_PASSWORD")
  [[ $code == 303 ]] || say "  portal sign-in as $MANY_GROUPS_EMAIL answered $code, not 303"
  sub_product= sub_csrf=
  for p in $(curl -sS -b "$W_DEV_JAR" "$BASE/products" | grep -o 'href="/products/[^"/]*"' |
    sed 's/^href="\/products\///; s/"$//' | sort -u | head -n 50); do
    page=$(curl -sS -b "$W_DEV_JAR" "$BASE/products/$p")
    if grep -q "action=\"/products/$p/subscribe\"" <<<"$page" && ! grep -q 'Each developer may hold up to' <<<"$page"; then
      sub_product=$p
      sub_csrf=$(csrf_of <<<"$page")
      break
    fi
  done
  [[ -n $sub_product ]] || say "  found no product $MANY_GROUPS_EMAIL may subscribe to without a limit"
  subscribe_name="… a subscription during it (POST /products/$sub_product/subscribe)"
  # One anonymous session and its token for every sign-in (as signin.lua).
  W_ANON_JAR=$WORK/writer-anonymous.jar
  w_signin_csrf=$(curl -sS -c "$W_ANON_JAR" "$BASE$PORTAL_SIGN_IN_URL" | csrf_of)
  w_signin_cookie=$(cookie_header "$W_ANON_JAR")
  # post_signin / post_subscribe -> "STATUS SECONDS"
  post_signin() {
    curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' -H "Cookie: $w_signin_cookie" \
      --data-urlencode "email=$MANY_GROUPS_EMAIL" --data-urlencode "password=$SEEDED_PASSWORD" \
      --data-urlencode "csrf_token=$w_signin_csrf" "$BASE$PORTAL_SIGN_IN_URL"
  }
  post_subscribe() {
    curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' -b "$W_DEV_JAR" \
      --data-urlencode "name=During the toggle" --data-urlencode "csrf_token=$sub_csrf" \
      "$BASE/products/$sub_product/subscribe"
  }
  # Each once before, with nothing else going on, for comparison.
  idle_signin=$(post_signin)
  idle_subscribe=$(post_subscribe)
  COOKIE=$(admin_cookie)
  all_token=$(curl -sS -H "Cookie: $COOKIE" "$BASE/admin/users" | csrf_of)
  : >"$WORK/writes.txt"
  curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' -H "Cookie: $COOKIE" -H "Origin: $BASE" \
    --data "csrf_token=$all_token&group=$TOGGLE_ALL_GROUP&scope=matching&q=&state=&confirm=yes" \
    "$BASE/admin/users/toggle" >"$WORK/toggle-all.txt" &
  toggle_all_pid=$!
  # writer KIND: sends one after another, WRITE_EVERY s apart, while the
  # toggle runs (each kind on its own, so one waiting holds up no other).
  writer() {
    while sleep "$WRITE_EVERY"; kill -0 "$toggle_all_pid" 2>/dev/null; do
      printf '%s %s\n' "$1" "$("post_$1")" >>"$WORK/writes.txt"
    done
  }
  writer signin &
  signin_writer=$!
  subscribe_writer=
  if [[ -n $sub_product ]]; then
    writer subscribe &
    subscribe_writer=$!
  fi
  wait "$toggle_all_pid" || true
  wait $signin_writer $subscribe_writer || true
  all_http=$(cat "$WORK/toggle-all.txt")
  all_line=$(grep 'group membership toggled' "$WORK/server.log" | tail -n 1 | sed 's/\x1b\[[0-9;]*m//g')
  field() { grep -o " $1=[^ ]*" <<<"$all_line" | cut -d= -f2 | tr -d '"'; }
  all_us=$(field micros)
  if [[ -n $all_us && $(field group) == "$TOGGLE_ALL_GROUP" ]]; then
    all_ok=$(awk -v us="$all_us" -v lock="$(field lock_micros)" \
      'BEGIN { print (us <= 1500000 && lock != "" && lock < 1000000) ? "yes" : "**no**" }')
    add_row "$all_name ($(thousands "$(field selected)"))" "" "$(fmt_ms "$all_us") in the server" "" "" "≤1,500 ms, lock <1 s" "$all_ok" \
      "added $(thousands "$(field added)"), removed $(thousands "$(field removed)");write lock held $(fmt_ms "$(field lock_micros)") (prepared outside it in $(fmt_ms "$(field prepare_micros)"), read again under it: $(field reread_in_lock));HTTP ${all_http%% *}, $(awk -v s="${all_http##* }" 'BEGIN { printf "%.1f ms", s * 1000 }') seen by curl"
  else
    skip_row "$all_name" "≤1,500 ms" "no timing in the server log (HTTP $all_http)"
  fi
  # write_row NAME KIND IDLE: median and slowest of those issued during the toggle.
  write_row() {
    local name=$1 kind=$2 idle=$3 n stats
    n=$(grep -c "^$kind " "$WORK/writes.txt" || true)
    if ((n == 0)); then
      add_row "$name" "" "" "" "" "≤1 s" "" "none issued while the toggle ran"
      return
    fi
    stats=$(grep "^$kind " "$WORK/writes.txt" | awk '{ print $3 * 1e6 }' | sort -n |
      awk '{ v[NR] = $1 } END { printf "%d %d", v[int((NR + 1) / 2)], v[NR] }')
    local statuses slowest=${stats#* } ok
    statuses=$(grep "^$kind " "$WORK/writes.txt" | awk '{ print $2 }' | sort | uniq -c |
      awk '{ printf "%s%s:%s", sep, $2, $1; sep = ", " }')
    ok=$(awk -v us="$slowest" 'BEGIN { print (us <= 1000000) ? "yes" : "**no**" }')
    grep "^$kind " "$WORK/writes.txt" | grep -qv "^$kind 303 " && ok="**no**"
    add_row "$name" "" "$(fmt_ms "${stats%% *}")" "$(fmt_ms "$slowest")" "" "≤1 s" "$ok" \
      "$n issued while the toggle ran (p50 and p99 columns: median and slowest);statuses $statuses;alone before: $(awk -v s="${idle##* }" 'BEGIN { printf "%.1f ms", s * 1000 }') (HTTP ${idle%% *})"
  }
  write_row "$signin_name" signin "$idle_signin"
  if [[ -n $sub_product ]]; then
    write_row "$subscribe_name" subscribe "$idle_subscribe"
  else
    skip_row "… a subscription during it" "≤1 s" "no product to subscribe to"
  fi
  # The account page again: its history now also looks the account up in
  # the toggle's list of accounts (migration 0008).
  COOKIE=$(admin_cookie)
  measure "Account page, after the toggle" "$ACCOUNT_ID" "≥2,000 req/s" 2000 - - \
    "its history lists $(curl -sS -H "Cookie: $COOKIE" "$BASE$ACCOUNT_ID" | grep -o 'Add to group [^<]*: added [0-9]*, removed [0-9]*' | wc -l) Add-to-group toggles (the 1,000 and every account)"
fi

# 16 sign-ins in flight while pages are read. The sign-ins are genuine
# console sign-ins (303), of seeded developers made administrators for this.
# The data the page rows measured, before the sign-in load makes seeded
# developers administrators: benches/postgres.sh copies it to PostgreSQL and
# serves it again from SQLite, in turn with PostgreSQL.
PAGES_DB=$WORK/pages.db
"$PORTAL_BIN" backup "$PAGES_DB" >&2

section "Sign-ins in flight"
HWM_BEFORE_SIGNINS_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status")
SIGNIN_EMAILS=$(curl -sS -H "Cookie: $COOKIE" "$BASE/admin/users?state=active" |
  grep -o '[A-Za-z0-9._-]*@example[0-9]*\.org' | sort -u | head -n "$SIGNIN_ACCOUNTS" | paste -sd, -)
n_signin=$(tr ',' '\n' <<<"$SIGNIN_EMAILS" | grep -c . || true)
((n_signin > 0)) || die "found no active seeded accounts for the sign-in load"
for email in ${SIGNIN_EMAILS//,/ }; do
  "$PORTAL_BIN" create-admin --email "$email" >/dev/null
done
say "  $n_signin seeded developers made administrators for the sign-in load"
ANON_JAR=$WORK/anonymous.jar
SIGNIN_CSRF=$(curl -sS -c "$ANON_JAR" "$BASE/admin/sign-in" | csrf_of)
SIGNIN_COOKIE=$(cookie_header "$ANON_JAR")
SIGNIN_SECS=$((${DURATION%s} + 6))
SIGNIN_EMAILS=$SIGNIN_EMAILS SIGNIN_PASSWORD=$SEEDED_PASSWORD SIGNIN_CSRF=$SIGNIN_CSRF \
  SIGNIN_COOKIE=$SIGNIN_COOKIE wrk -t1 -c"$SIGNINS_IN_FLIGHT" -d"${SIGNIN_SECS}s" --latency \
  -s benches/signin.lua "$BASE/admin/sign-in" >"$WORK/signin.out" 2>&1 &
SIGNIN_PID=$!
sleep 3
COOKIE=$(admin_cookie)
measure "Users tab, page 1, with $SIGNINS_IN_FLIGHT sign-ins in flight" /admin/users "page p99 ≤50 ms" - 50 - ""
wait "$SIGNIN_PID" || true
SIGNIN_PID=
signin_line=$(grep '^REPORT ' "$WORK/signin.out" || true)
if [[ -n $signin_line ]]; then
  s_rps=$(report_field rps "$signin_line")
  s_p50=$(report_field p50_us "$signin_line")
  s_p99=$(report_field p99_us "$signin_line")
  s_req=$(report_field requests "$signin_line")
  s_err=$(report_field status_errors "$signin_line")
  s_statuses=$(sed -n 's/.* statuses=\([0-9:,]*\).*/\1/p' <<<"$signin_line")
  s_note="the load itself (${SIGNIN_SECS} s, $n_signin accounts);statuses ${s_statuses//,/, }"
  ((s_err == 0)) || s_note+=";⚠ $s_err of $s_req sign-ins did not answer 303"
  add_row "… the $SIGNINS_IN_FLIGHT sign-ins (POST /admin/sign-in)" "$(fmt_rps "$s_rps")" "$(fmt_ms "$s_p50")" \
    "$(fmt_ms "$s_p99")" "" "–" "" "$s_note"
else
  add_row "… the $SIGNINS_IN_FLIGHT sign-ins (POST /admin/sign-in)" "" "" "" "" "–" "" "⚠ wrk printed no report: $(tail -n 3 "$WORK/signin.out" | tr '\n' ' ')"
fi

# Peak resident memory of the server over the whole run.
HWM_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status")
HWM_MIB=$(awk -v kb="$HWM_KB" 'BEGIN { printf "%.1f", kb / 1024 }')
hwm_ok=$(awk -v kb="$HWM_KB" 'BEGIN { print (kb <= 64 * 1024 ? "yes" : "**no**") }')
hwm_before=$(awk -v kb="$HWM_BEFORE_SIGNINS_KB" 'BEGIN { printf "%.1f", kb / 1024 }')
add_row "Peak RSS of the server (VmHWM)" "" "" "" "" "≤64 MiB" "$hwm_ok" \
  "${HWM_MIB} MiB over the whole run;${hwm_before} MiB before the sign-in load"

kill -TERM "$SERVER_PID" 2>/dev/null || true
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=

# What the server logged at warn level and above, in short.
sed 's/\x1b\[[0-9;]*m//g' "$WORK/server.log" >"$WORK/server.txt"
LOG_WARNINGS=$(grep -c ' WARN ' "$WORK/server.txt" || true)
LOG_ERRORS=$(grep -c ' ERROR ' "$WORK/server.txt" || true)
if ((LOG_WARNINGS + LOG_ERRORS > 0)); then
  say "---- server warnings and errors, by message ----"
  grep -E ' (WARN|ERROR) ' "$WORK/server.txt" | sed -E 's/^[^ ]+ +//' | cut -c1-160 |
    sed -E 's/ [a-z_.]+=[^ ]+//g' | sort | uniq -c | sort -rn | head -n 10 >&2
fi

# ---- PostgreSQL: one instance, alone and behind nginx, then three (benches/postgres.sh)

# shellcheck source=postgres.sh
source benches/postgres.sh

# ---- the table -----------------------------------------------------------------------

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
mem_gib=$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit+=" + uncommitted changes"

{
  echo "### $(date -u '+%Y-%m-%d %H:%M UTC') – $(nproc) cores${cpu:+ ($cpu)}, ${mem_gib} GiB RAM"
  echo
  echo "Commit $commit. Seeded $(thousands "$SEED_ACCOUNTS") accounts, $(thousands "$SEED_GROUPS") groups," \
    "$(thousands "$SEED_PRODUCTS") products, $(thousands "$SEED_SUBSCRIPTIONS") subscriptions (seed $SEED_NUMBER)" \
    "in ${SEED_SECS:-?} s; database ${DB_SIZE} MB. wrk -t$THREADS -c$CONNECTIONS -d$DURATION against the" \
    "release build on the same machine; load average before measuring: $LOAD_BEFORE."
  echo
  echo "| Measurement | Requests/s | p50 | p99 | vs /healthz | Target | Met | Notes |"
  echo "|---|--:|--:|--:|--:|---|---|---|"
  for row in "${ROWS[@]}"; do
    IFS='|' read -r name rps p50 p99 ratio target met notes <<<"$row"
    echo "| $name | $rps | $p50 | $p99 | $ratio | $target | $met | ${notes//;/; } |"
  done
  echo
  echo "Server log during the run: $LOG_WARNINGS warnings, $LOG_ERRORS errors."
} >"$WORK/table.md"

mkdir -p "$(dirname "$RESULTS")"
cp "$WORK/table.md" "$RESULTS"
echo
cat "$WORK/table.md"
echo
say "written to $RESULTS"
