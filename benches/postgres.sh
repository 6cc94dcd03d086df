# Sourced by benches/run.sh once the SQLite rows are measured and that
# server is stopped (issue 15, SPEC R4): the data the page rows measured
# copied into a throw-away PostgreSQL cluster with `portal
# migrate-to-postgres`; the console pages on one instance on PostgreSQL, in
# turn with a SQLite server on the same data, and the key check; then that
# instance alone behind nginx (README's "several instances" block with one
# upstream server) and three more instances behind another such nginx, in
# turn page by page. Uses run.sh's helpers (measure, add_row, sign_in, …)
# and the same /healthz ceiling. BENCH_POSTGRES=off skips it.

PG_PIDS=()
NGINX_PIDS=()

# Ends what this part started, then run.sh's own clean-up.
postgres_cleanup() {
  local status=$?
  for pid in "${PG_PIDS[@]}" "${NGINX_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  postgres_stop
  (exit "$status")
  cleanup
}

# The SQLite run's requests/s of the row named $1 (empty if none).
sqlite_rps() {
  local row name rps
  for row in "${ROWS[@]}"; do
    IFS='|' read -r name rps _ <<<"$row"
    [[ $name == "$1" ]] && { echo "$rps"; return; }
  done
}

# start_instance PORT [NAME=VALUE...]: a portal at 127.0.0.1:PORT, on
# PostgreSQL unless these settings (which win) say otherwise.
start_instance() {
  local port=$1
  shift
  env DATABASE_URL=$PG_URL SESSION_KEY=$PG_SESSION_KEY BIND="127.0.0.1:$port" BASE_URL=$PG_PUBLIC \
    TRUSTED_PROXIES=127.0.0.1 RUST_LOG=warn "$@" "$PORTAL_BIN" serve >>"$WORK/server-$port.log" 2>&1 &
  PG_PIDS+=($!)
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && return
    kill -0 "${PG_PIDS[-1]}" 2>/dev/null || die "the portal on port $port exited at start: $(tail -n 5 "$WORK/server-$port.log")"
    sleep 0.2
  done
  die "the portal did not answer /healthz on port $port"
}

# pg_start_nginx NAME PORT...: nginx from README's "several instances"
# block on a free port, with these instances as its upstream servers; BASE
# is nginx.
pg_start_nginx() {
  local name=$1
  shift
  local nginx_port block line i=0 ports=("$@") kept=() dir
  nginx_port=$(free_port)
  block=$(awk '/^## Running on PostgreSQL, and several instances/ { on = 1 }
               on && /^```nginx$/ { inblock = 1; next }
               inblock && /^```$/ { exit }
               inblock { print }' README.md)
  [[ -n $block ]] || die "README.md has no nginx block under \"Running on PostgreSQL, and several instances\""
  # README's server lines (8081, 8082, 8083) become the PORTs given, in
  # order; those beyond them go.
  while IFS= read -r line; do
    if [[ $line =~ ^[[:space:]]*server\ 127\.0\.0\.1:808[0-9]\; ]]; then
      ((i < ${#ports[@]})) && kept+=("${line/127.0.0.1:808?/127.0.0.1:${ports[i]}}")
      i=$((i + 1))
    else
      kept+=("$line")
    fi
  done <<<"$block"
  block=$(printf '%s\n' "${kept[@]}")
  block=${block//listen 80;/listen 127.0.0.1:$nginx_port;}
  dir=$WORK/nginx-$name
  rm -rf "$dir"
  mkdir -p "$dir"
  local user=
  [[ $(id -u) -eq 0 ]] && user="user root;"
  cat >"$dir/nginx.conf" <<EOF
$user
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
$block
}
EOF
  "$NGINX" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" -g 'daemon off;' \
    >"$dir/stdout.log" 2>&1 &
  NGINX_PIDS+=($!)
  for _ in $(seq 1 50); do
    curl -fsS -o /dev/null "http://127.0.0.1:$nginx_port/healthz" 2>/dev/null && break
    sleep 0.2
  done
  BASE="http://127.0.0.1:$nginx_port"
  curl -fsS -o /dev/null "$BASE/healthz" || die "nginx did not answer: $(cat "$dir/error.log")"
  say "  nginx (pid ${NGINX_PIDS[-1]}) at $BASE, upstream servers: ${ports[*]}"
}

# pg_pages EACH: runs EACH WHO NAME URL [wrk args...] for the console pages
# (WHO=admin), the portal's product list (dev) and the key check (none,
# with PROBE_HEADER set).
pg_pages() {
  local each=$1 page
  local -a pages=(
    "Users tab, page 1|/admin/users"
    "Users tab, page $((PAGE_STEPS + 1)) (rows $(thousands $DEEP_FIRST_ROW)–$(thousands $((DEEP_FIRST_ROW + 49))))|$DEEP_URL"
    "Search \"$SEARCH_FRAGMENT\" with count|$SEARCH_URL"
    "Account page|$ACCOUNT_ID"
    "Groups tab|$GROUPS_URL"
    "Group's Members page|$MEMBERS_URL"
    "Product's Access control page|$ACCESS_URL"
  )
  for page in "${pages[@]}"; do
    "$each" admin "${page%%|*}" "${page#*|}"
  done
  if [[ -n ${DEV_COOKIES[pg]:-} ]]; then
    "$each" dev "Portal product list (developer in 20 groups)" "$PORTAL_PRODUCTS_URL"
  fi
  if [[ -n $SAMPLE_KEY ]]; then
    PROBE_HEADER="Ocp-Apim-Subscription-Key: $SAMPLE_KEY" "$each" none "Gateway key check" \
      /gateway/check -H "Ocp-Apim-Subscription-Key: $SAMPLE_KEY"
  fi
}

# The sides measured, by name: their base URL, the administrator's cookie
# jar and the developer's cookie there. "sqlite" is a SQLite server on the
# data the SQLite rows measured, "pg" one instance on PostgreSQL, "one" that
# instance behind nginx, "three" three more behind another nginx.
declare -A BASES=() ADMIN_JARS=() DEV_COOKIES=()

# side_cookie WHO SIDE: the Cookie header WHO sends at SIDE (the
# administrator's renewed first, as admin_cookie does).
side_cookie() {
  case $1 in
    admin) BASE=${BASES[$2]} ADMIN_JAR=${ADMIN_JARS[$2]} admin_cookie ;;
    dev) echo "${DEV_COOKIES[$2]:-}" ;;
    *) echo "" ;;
  esac
}

# pg_one_instance WHO NAME URL [wrk args...]: one instance on PostgreSQL.
# Issue 15's targets: each page within 2× of SQLite's figure, measured in
# turn with a SQLite server on the same data; the key check at least 40% of
# /healthz.
pg_one_instance() {
  local who=$1 name=$2 url=$3
  shift 3
  if [[ $name == "Gateway key check" ]]; then
    BASE=${BASES[pg]} COOKIE='' measure "PostgreSQL, one instance: $name" "$url" "≥40% of /healthz" - - 40 "" "$@"
    return
  fi
  in_turn sqlite pg "$who" "$name" "$url" "$@"
  local sqlite
  sqlite=$(fmt_rps "$(report_field rps "${TURN_LINES[sqlite]}")")
  report_row "PostgreSQL, one instance: $name" \
    "≥$(thousands $((sqlite / 2))) req/s (half of SQLite's $(thousands "$sqlite"), in turn)" $((sqlite / 2)) - - \
    "$TURN_HOW with SQLite" "${TURN_PROBES[pg]}" "${TURN_LINES[pg]}"
}

# pg_three_instances WHO NAME URL [wrk args...]: one instance behind nginx
# against three behind another, in turn. Issue 15's target: three no
# slower than one.
pg_three_instances() {
  local who=$1 name=$2 url=$3
  shift 3
  in_turn one three "$who" "$name" "$url" "$@"
  report_row "One instance behind nginx: $name" "–" - - - "$TURN_HOW with the other" \
    "${TURN_PROBES[one]}" "${TURN_LINES[one]}"
  local one
  one=$(report_field rps "${TURN_LINES[one]}")
  report_row "Three instances behind nginx: $name" \
    "≥$(thousands "$(fmt_rps "$one")") req/s (one instance behind nginx)" "$one" - - \
    "$TURN_HOW with the other" "${TURN_PROBES[three]}" "${TURN_LINES[three]}"
}

# in_turn A B WHO NAME URL [wrk args...]: the same request at sides A and B
# in turn: PAIR_ROUNDS rounds of PAIR_DURATION each, the order swapped
# every round, after a 1 s warm-up of each. Another tenant's burst on this
# shared machine then slows both sides alike rather than whichever ran at
# the time. Sets TURN_LINES[side] to the median of its rounds (requests/s,
# p50 and p99 each, with the errors of all its rounds) and TURN_PROBES[side]
# to what the URL answered there before and after.
PAIR_ROUNDS=${PAIR_ROUNDS:-6}
PAIR_DURATION=${PAIR_DURATION:-4s}
TURN_HOW="median of $PAIR_ROUNDS rounds of $PAIR_DURATION, in turn"
declare -A TURN_LINES=() TURN_PROBES=()
in_turn() {
  local a=$1 b=$2 who=$3 name=$4 url=$5
  shift 5
  local -A lines=() cookies=()
  local r side line
  local -a order
  for side in "$a" "$b"; do
    cookies[$side]=$(side_cookie "$who" "$side")
    TURN_PROBES[$side]=$(BASE=${BASES[$side]} probe "$url" "${cookies[$side]}")
    BASE=${BASES[$side]} COOKIE=${cookies[$side]} DURATION=1s wrk_report "$url" "$@" >/dev/null
  done
  say "  $name: GET $url, $PAIR_ROUNDS rounds of $PAIR_DURATION on $a and $b in turn"
  for ((r = 0; r < PAIR_ROUNDS; r++)); do
    order=("$a" "$b")
    ((r % 2 == 0)) || order=("$b" "$a")
    for side in "${order[@]}"; do
      line=$(BASE=${BASES[$side]} COOKIE=${cookies[$side]} DURATION=$PAIR_DURATION wrk_report "$url" "$@")
      lines[$side]+=$line$'\n'
    done
  done
  for side in "$a" "$b"; do
    TURN_PROBES[$side]+=$(BASE=${BASES[$side]} probe "$url" "${cookies[$side]}")
    say "    $side: $(grep -o ' rps=[0-9]*' <<<"${lines[$side]}" | cut -d= -f2 | paste -sd' ') req/s"
    TURN_LINES[$side]=$(median_report <<<"${lines[$side]}")
  done
}

# median_report: REPORT lines in, one REPORT line out: the median of their
# requests/s, p50 and p99, the sum of their requests and errors.
median_report() {
  awk '
    function median(a, n,   i, j, t) {
      for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function field(k,   m) { return match($0, " " k "=[0-9.]+") ? substr($0, RSTART + length(k) + 2, RLENGTH - length(k) - 2) : 0 }
    /^REPORT / {
      n++; rps[n] = field("rps"); p50[n] = field("p50_us"); p99[n] = field("p99_us")
      requests += field("requests"); status += field("status_errors")
      socket += field("socket_errors"); timeouts += field("timeouts")
    }
    END {
      printf "REPORT requests=%d rps=%.2f p50_us=%d p99_us=%d status_errors=%d socket_errors=%d timeouts=%d\n",
        requests, median(rps, n), median(p50, n), median(p99, n), status, socket, timeouts
    }'
}

postgres_rows() {
  if [[ ${BENCH_POSTGRES:-on} == off ]]; then
    say "BENCH_POSTGRES=off: PostgreSQL rows skipped"
    return
  fi
  section "PostgreSQL: a throw-away cluster and a copy of the seeded database"
  apt_install() {
    local sudo=
    [[ $(id -u) -eq 0 ]] || sudo=sudo
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
  }
  NGINX=${NGINX_BIN:-/usr/sbin/nginx}
  [[ -x $NGINX ]] || apt_install nginx
  # shellcheck source=../tests/postgres.sh
  source tests/postgres.sh
  postgres_start >&2
  trap postgres_cleanup EXIT
  psql -q -v ON_ERROR_STOP=1 "$PORTAL_TEST_POSTGRES" -c "CREATE DATABASE bench"
  PG_URL=${PORTAL_TEST_POSTGRES%/*}/bench
  PG_SESSION_KEY=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
  local started copy_secs
  started=$(date +%s.%N)
  "$PORTAL_BIN" migrate-to-postgres --from "sqlite://$PAGES_DB" --to "$PG_URL" >&2
  copy_secs=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  add_row "Copy to PostgreSQL (portal migrate-to-postgres)" "" "$copy_secs s" "" "" "–" "–" \
    "the whole seeded database as the page rows above left it, one transaction"
  psql -q "$PG_URL" -c "VACUUM ANALYZE" >&2

  section "PostgreSQL: one instance, in turn with SQLite on the same data"
  local ports=() p code side
  ports+=("$(free_port)")
  PG_PUBLIC="http://127.0.0.1:${ports[0]}"
  start_instance "${ports[0]}"
  BASES[pg]=$PG_PUBLIC
  # SQLite's side: a server of its own on the copy the PostgreSQL data came
  # from, so that both answer for the same accounts.
  p=$(free_port)
  start_instance "$p" DATABASE_URL="sqlite://$PAGES_DB" BASE_URL="http://127.0.0.1:$p"
  BASES[sqlite]="http://127.0.0.1:$p"
  for side in pg sqlite; do
    BASE=${BASES[$side]}
    ADMIN_JARS[$side]=$WORK/$side-admin.jar
    code=$(sign_in "${ADMIN_JARS[$side]}" /admin/sign-in "$ADMIN_EMAIL" "$ADMIN_PASSWORD")
    [[ $code == 303 ]] || die "administrator sign-in on $side answered $code, not 303"
    if [[ -n $MANY_GROUPS_EMAIL ]]; then
      code=$(sign_in "$WORK/$side-dev.jar" "$PORTAL_SIGN_IN_URL" "$MANY_GROUPS_EMAIL" "$SEEDED_PASSWORD")
      [[ $code == 303 ]] && DEV_COOKIES[$side]=$(cookie_header "$WORK/$side-dev.jar")
    fi
  done
  BASE=${BASES[pg]}
  COOKIE='' measure "PostgreSQL, one instance: /healthz" /healthz "–" - - - ""
  pg_pages pg_one_instance

  section "PostgreSQL: one instance behind nginx, three behind another, in turn"
  local -a settings
  read -r -a settings <<<"${THREE_INSTANCE_SETTINGS:-WORKERS=1 DATABASE_MAX_CONNECTIONS=6}"
  say "  the three instances with ${settings[*]}"
  for _ in 1 2 3; do
    p=$(free_port)
    start_instance "$p" "${settings[@]}"
    ports+=("$p")
  done
  pg_start_nginx three "${ports[@]:1}"
  BASES[three]=$BASE
  pg_start_nginx one "${ports[0]}"
  BASES[one]=$BASE
  # The same database and session key: the cookies made on the instance
  # answer through either nginx.
  for side in one three; do
    ADMIN_JARS[$side]=${ADMIN_JARS[pg]}
    DEV_COOKIES[$side]=${DEV_COOKIES[pg]:-}
  done
  pg_pages pg_three_instances
}

postgres_rows
