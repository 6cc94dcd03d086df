# Sourced by tests/run.sh: a throw-away PostgreSQL cluster for the tests
# (Debian's postgresql, installed when missing; initdb and pg_ctl as the
# postgres user, a free loopback port, a folder of its own, stopped on exit).
# Sets PORTAL_TEST_POSTGRES to a superuser URL of it (SPEC R4, issue 15).

pg_bin_dir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n $d ]] && echo "$d"
}

postgres_start() {
  if [[ -z $(pg_bin_dir) ]]; then
    echo "installing postgresql"
    apt_install postgresql
  fi
  local bin port dir
  bin=$(pg_bin_dir)
  dir=$(mktemp -d -t portal-pg.XXXXXX)
  chown postgres "$dir"
  for port in $(shuf -i 20000-60999 -n 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
  done
  su postgres -s /bin/sh -c "'$bin/initdb' -D '$dir/data' -A trust -U postgres --no-sync >/dev/null"
  su postgres -s /bin/sh -c "'$bin/pg_ctl' -D '$dir/data' -l '$dir/log' -w \
    -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start >/dev/null"
  PORTAL_TEST_POSTGRES_DIR=$dir
  PORTAL_TEST_POSTGRES_BIN=$bin
  export PORTAL_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
  trap postgres_stop EXIT
  echo "PostgreSQL $("$bin/postgres" --version | awk '{ print $3 }') on 127.0.0.1:$port ($dir)"
}

postgres_stop() {
  [[ -n ${PORTAL_TEST_POSTGRES_DIR:-} ]] || return 0
  su postgres -s /bin/sh -c "'$PORTAL_TEST_POSTGRES_BIN/pg_ctl' -D '$PORTAL_TEST_POSTGRES_DIR/data' -m immediate stop" >/dev/null 2>&1 || true
  rm -rf "$PORTAL_TEST_POSTGRES_DIR"
  PORTAL_TEST_POSTGRES_DIR=
}

# The PostgreSQL migrations apply, in order, to an empty database.
postgres_check_migrations() {
  local db=migrations_check url
  psql -q -v ON_ERROR_STOP=1 "$PORTAL_TEST_POSTGRES" -c "CREATE DATABASE $db"
  url=${PORTAL_TEST_POSTGRES%/*}/$db
  for f in migrations/postgres/*.sql; do
    psql -q -v ON_ERROR_STOP=1 "$url" -f "$f" >/dev/null
  done
  echo "migrations/postgres: $(ls migrations/postgres/*.sql | wc -l) file(s) apply; $(psql -tA "$url" -c "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'") tables"
}
