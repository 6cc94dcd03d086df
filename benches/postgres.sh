# Sourced by benches/run.sh once the SQLite rows are measured and that
# server is stopped (issue 15, SPEC R4): the same seeded data copied into a
# throw-away PostgreSQL cluster with `portal migrate-to-postgres`, the console
# pages and the key check measured on one instance on PostgreSQL, then on
# that instance alone behind nginx (README's "several instances" block with
# one upstream server), then on three instances behind it. Uses
# run.sh's helpers (measure, add_row, sign_in, …) and the same /healthz
# ceiling. BENCH_POSTGRES=off skips it.

PG_PIDS=()
NGINX_PID=

# Ends what this part started, then run.sh's own clean-up.
postgres_cleanup() {
  local status=$?
  for pid in "${PG_PIDS[@]}" $NGINX_PID; do
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

# pg_start_instance PORT: a portal on PostgreSQL at 127.0.0.1:PORT.
pg_start_instance() {
  local port=$1
  DATABASE_URL=$PG_URL SESSION_KEY=$PG_SESSION_KEY BIND="127.0.0.1:$port" BASE_URL=$PG_PUBLIC \
    TRUSTED_PROXIES=127.0.0.1 RUST_LOG=warn "$PORTAL_BIN" serve >>"$WORK/pg-server-$port.log" 2>&1 &
  PG_PIDS+=($!)
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && return
    kill -0 "${PG_PIDS[-1]}" 2>/dev/null || die "the portal on PostgreSQL exited at start: $(tail -n 5 "$WORK/pg-server-$port.log")"
    sleep 0.2
  done
  die "the portal on PostgreSQL did not answer /healthz on port $port"
}

# pg_start_nginx PORT...: nginx from README's "several instances" block on a
# free port, with these instances as its upstream servers; BASE is nginx.
pg_start_nginx() {
  local nginx_port block line i=0 ports=("$@") kept=()
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
  rm -rf "$WORK/nginx"
  mkdir -p "$WORK/nginx"
  local user=
  [[ $(id -u) -eq 0 ]] && user="user root;"
  cat >"$WORK/nginx/nginx.conf" <<EOF
$user
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
$block
}
EOF
  "$NGINX" -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' \
    >"$WORK/nginx/stdout.log" 2>&1 &
  NGINX_PID=$!
  for _ in $(seq 1 50); do
    curl -fsS -o /dev/null "http://127.0.0.1:$nginx_port/healthz" 2>/dev/null && break
    sleep 0.2
  done
  BASE="http://127.0.0.1:$nginx_port"
  curl -fsS -o /dev/null "$BASE/healthz" || die "nginx did not answer: $(cat "$WORK/nginx/error.log")"
  say "  nginx (pid $NGINX_PID) at $BASE, upstream servers: ${ports[*]}"
}

pg_stop_nginx() {
  kill -TERM "$NGINX_PID" 2>/dev/null || true
  wait "$NGINX_PID" 2>/dev/null || true
  NGINX_PID=
}

# pg_pages PREFIX TARGET_OF: measures the console pages, the portal's
# product list and the key check at $BASE; TARGET_OF NAME prints
# "MIN_RPS|TARGET TEXT" for a page row.
pg_pages() {
  local prefix=$1 target_of=$2 name t
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
    name=${page%%|*}
    t=$($target_of "$name")
    COOKIE=$(admin_cookie)
    measure "$prefix$name" "${page#*|}" "${t#*|}" "${t%%|*}" - - ""
  done
  if [[ -n ${PG_DEV_COOKIE:-} ]]; then
    name="Portal product list (developer in 20 groups)"
    t=$($target_of "$name")
    COOKIE=$PG_DEV_COOKIE measure "$prefix$name" "$PORTAL_PRODUCTS_URL" "${t#*|}" "${t%%|*}" - - ""
  fi
  if [[ -n $SAMPLE_KEY ]]; then
    # One instance: issue 15's "≥40% of /healthz"; behind nginx, the
    # comparison of TARGET_OF like the pages.
    local min_ratio=-
    t="-|–"
    if [[ $target_of == within_twice_sqlite ]]; then
      min_ratio=40
      t="-|≥40% of /healthz"
    else
      t=$($target_of "Gateway key check")
    fi
    COOKIE='' PROBE_HEADER="Ocp-Apim-Subscription-Key: $SAMPLE_KEY" measure "${prefix}Gateway key check" \
      /gateway/check "${t#*|}" "${t%%|*}" - "$min_ratio" "" -H "Ocp-Apim-Subscription-Key: $SAMPLE_KEY"
  fi
}

# One instance on PostgreSQL: each page within 2× of its SQLite figure.
within_twice_sqlite() {
  local rps
  rps=$(sqlite_rps "$1")
  if [[ -z $rps ]]; then
    echo "-|–"
  else
    echo "$((rps / 2))|≥$(thousands $((rps / 2))) req/s (half of SQLite's $(thousands "$rps"))"
  fi
}

# Three instances: no page slower than one instance behind the same proxy.
as_fast_as_one() {
  local rps
  rps=$(sqlite_rps "One instance behind nginx: $1")
  if [[ -z $rps ]]; then
    echo "-|–"
  else
    echo "$rps|≥$(thousands "$rps") req/s (one instance behind nginx)"
  fi
}

# A row measured for comparison only.
no_target() {
  echo "-|–"
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
  for _ in 1 2 3; do
    p=$(free_port)
    while [[ " ${ports[*]} " == *" $p "* ]]; do p=$(free_port); done
    ports+=("$p")
  done
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
  pg_pages "PostgreSQL, one instance: " within_twice_sqlite

  # The cost of being several, apart from the proxy's: the same nginx,
  # first with this one instance as its only upstream server.
  section "PostgreSQL: one instance behind nginx"
  pg_start_nginx "${ports[0]}"
  pg_pages "One instance behind nginx: " no_target
  pg_stop_nginx

  section "PostgreSQL: three instances behind nginx"
  pg_start_instance "${ports[1]}"
  pg_start_instance "${ports[2]}"
  pg_start_nginx "${ports[@]}"
  pg_pages "Three instances behind nginx: " as_fast_as_one
}

postgres_rows
