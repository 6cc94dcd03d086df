# Sourced by benches/run.sh once the SQLite rows are measured and that
# server is stopped (issue 15, SPEC R4): the same seeded data copied into a
# throw-away PostgreSQL cluster with `portal migrate-to-postgres`, the console
# pages and the key check measured on one instance on PostgreSQL, then on
# that instance alone behind nginx (README's "several instances" block with
# one upstream server) and on three more instances behind another such
# nginx, measured in turn page by page. Uses
# run.sh's helpers (measure, add_row, sign_in, …) and the same /healthz
# ceiling. BENCH_POSTGRES=off skips it.

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

# pg_start_instance PORT [NAME=VALUE...]: a portal on PostgreSQL at
# 127.0.0.1:PORT, with these settings added.
pg_start_instance() {
  local port=$1
  shift
  env "$@" DATABASE_URL=$PG_URL SESSION_KEY=$PG_SESSION_KEY BIND="127.0.0.1:$port" BASE_URL=$PG_PUBLIC \
    TRUSTED_PROXIES=127.0.0.1 RUST_LOG=warn "$PORTAL_BIN" serve >>"$WORK/pg-server-$port.log" 2>&1 &
  PG_PIDS+=($!)
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && return
    kill -0 "${PG_PIDS[-1]}" 2>/dev/null || die "the portal on PostgreSQL exited at start: $(tail -n 5 "$WORK/pg-server-$port.log")"
    sleep 0.2
  done
  die "the portal on PostgreSQL did not answer /healthz on port $port"
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

# pg_pages EACH: runs EACH NAME URL [wrk args...] for the console pages,
# the portal's product list and the key check, with COOKIE (and
# PROBE_HEADER) set for each.
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
    COOKIE=$(admin_cookie) "$each" "${page%%|*}" "${page#*|}"
  done
  if [[ -n ${PG_DEV_COOKIE:-} ]]; then
    COOKIE=$PG_DEV_COOKIE "$each" "Portal product list (developer in 20 groups)" "$PORTAL_PRODUCTS_URL"
  fi
  if [[ -n $SAMPLE_KEY ]]; then
    COOKIE='' PROBE_HEADER="Ocp-Apim-Subscription-Key: $SAMPLE_KEY" "$each" "Gateway key check" \
      /gateway/check -H "Ocp-Apim-Subscription-Key: $SAMPLE_KEY"
  fi
}

# pg_one_instance NAME URL [wrk args...]: one instance on PostgreSQL, at
# $BASE. Issue 15's targets: each page within 2× of its SQLite figure, the
# key check at least 40% of /healthz.
pg_one_instance() {
  local name=$1 url=$2 rps
  shift 2
  if [[ $name == "Gateway key check" ]]; then
    measure "PostgreSQL, one instance: $name" "$url" "≥40% of /healthz" - - 40 "" "$@"
    return
  fi
  rps=$(sqlite_rps "$name")
  if [[ -z $rps ]]; then
    measure "PostgreSQL, one instance: $name" "$url" "–" - - - "" "$@"
  else
    measure "PostgreSQL, one instance: $name" "$url" \
      "≥$(thousands $((rps / 2))) req/s (half of SQLite's $(thousands "$rps"))" $((rps / 2)) - - "" "$@"
  fi
}

# pg_in_turn NAME URL [wrk args...]: the same request on one instance
# behind nginx ($ONE_BASE) and on three behind another ($THREE_BASE), in
# turn: PAIR_ROUNDS rounds of PAIR_DURATION each, the order swapped every
# round, after a 1 s warm-up of each. Another tenant's burst on this shared
# machine then slows both sides alike rather than whichever ran at the
# time. Each side's row is the median of its rounds (requests/s, p50 and
# p99 each), with the errors of all its rounds. Issue 15's target: three no
# slower than one.
PAIR_ROUNDS=${PAIR_ROUNDS:-6}
PAIR_DURATION=${PAIR_DURATION:-4s}
pg_in_turn() {
  local name=$1 url=$2
  shift 2
  local -A base=([one]=$ONE_BASE [three]=$THREE_BASE) probes=() lines=()
  local r side line
  local -a order
  for side in one three; do
    probes[$side]=$(BASE=${base[$side]} probe "$url" "${COOKIE:-}")
    BASE=${base[$side]} DURATION=1s wrk_report "$url" "$@" >/dev/null
  done
  say "  $name: GET $url, $PAIR_ROUNDS rounds of $PAIR_DURATION on each in turn"
  for ((r = 0; r < PAIR_ROUNDS; r++)); do
    order=(one three)
    ((r % 2 == 0)) || order=(three one)
    for side in "${order[@]}"; do
      line=$(BASE=${base[$side]} DURATION=$PAIR_DURATION wrk_report "$url" "$@")
      lines[$side]+=$line$'\n'
    done
  done
  for side in one three; do
    probes[$side]+=$(BASE=${base[$side]} probe "$url" "${COOKIE:-}")
    say "    $side: $(grep -o ' rps=[0-9]*' <<<"${lines[$side]}" | cut -d= -f2 | paste -sd' ') req/s"
    lines[$side]=$(median_report <<<"${lines[$side]}")
  done
  local how="median of $PAIR_ROUNDS rounds of $PAIR_DURATION, in turn with the other"
  report_row "One instance behind nginx: $name" "–" - - - "$how" "${probes[one]}" "${lines[one]}"
  local one
  one=$(report_field rps "${lines[one]}")
  report_row "Three instances behind nginx: $name" \
    "≥$(thousands "$(fmt_rps "$one")") req/s (one instance behind nginx)" "$one" - - "$how" \
    "${probes[three]}" "${lines[three]}"
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
  "$PORTAL_BIN" migrate-to-postgres --from "sqlite://$WORK/portal.db" --to "$PG_URL" >&2
  copy_secs=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  add_row "Copy to PostgreSQL (portal migrate-to-postgres)" "" "$copy_secs s" "" "" "–" "–" \
    "the whole seeded database after the runs above, one transaction"
  # The sign-in row made seeded developers administrators, the first account
  # on page 1 among them: its Account page would list every product (146 KB,
  # an administrator sees them all) where the SQLite row measured a
  # developer's. They are developers again here, as they were then.
  local emails
  emails=$(tr ',' '\n' <<<"${SIGNIN_EMAILS:-}" | sed "s/'/''/g; s/.*/'&'/" | paste -sd, -)
  if [[ -n $emails ]]; then
    psql -q -v ON_ERROR_STOP=1 "$PG_URL" -c "DELETE FROM memberships WHERE group_id = 'administrators'
      AND account_id IN (SELECT id FROM accounts WHERE email IN ($emails))" >&2
  fi
  psql -q "$PG_URL" -c "VACUUM ANALYZE" >&2

  section "PostgreSQL: one instance"
  local ports=() p
  ports+=("$(free_port)")
  PG_PUBLIC="http://127.0.0.1:${ports[0]}"
  pg_start_instance "${ports[0]}"
  BASE=$PG_PUBLIC
  ADMIN_JAR=$WORK/pg-admin.jar
  local code
  code=$(sign_in "$ADMIN_JAR" /admin/sign-in "$ADMIN_EMAIL" "$ADMIN_PASSWORD")
  [[ $code == 303 ]] || die "administrator sign-in on PostgreSQL answered $code, not 303"
  PG_DEV_COOKIE=
  if [[ -n $MANY_GROUPS_EMAIL ]]; then
    code=$(sign_in "$WORK/pg-dev.jar" "$PORTAL_SIGN_IN_URL" "$MANY_GROUPS_EMAIL" "$SEEDED_PASSWORD")
    [[ $code == 303 ]] && PG_DEV_COOKIE=$(cookie_header "$WORK/pg-dev.jar")
  fi
  COOKIE='' measure "PostgreSQL, one instance: /healthz" /healthz "–" - - - ""
  pg_pages pg_one_instance

  # The cost of being several, apart from the proxy's: this instance alone
  # behind nginx, against three more behind another nginx, each page on
  # both in turn. The three share this machine as three machines would not:
  # between them they get the cores and the connections the one has
  # (THREE_INSTANCE_SETTINGS, README's advice for instances sharing a
  # machine).
  section "PostgreSQL: one instance behind nginx, three behind another, in turn"
  local -a settings
  read -r -a settings <<<"${THREE_INSTANCE_SETTINGS:-WORKERS=1 DATABASE_MAX_CONNECTIONS=6}"
  say "  the three instances with ${settings[*]}"
  for _ in 1 2 3; do
    p=$(free_port)
    pg_start_instance "$p" "${settings[@]}"
    ports+=("$p")
  done
  pg_start_nginx three "${ports[@]:1}"
  THREE_BASE=$BASE
  pg_start_nginx one "${ports[0]}"
  ONE_BASE=$BASE
  pg_pages pg_in_turn
}

postgres_rows
