#!/usr/bin/env bash
# The whole test suite in one command, on a fresh Debian machine as root:
# the Rust tests, then the console in a real browser (Debian's Chromium,
# since no browser build can be downloaded here).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

section() { printf '\n==== %s ====\n' "$*"; }

export DEBIAN_FRONTEND=noninteractive
apt_updated=
apt_install() {
  if [[ -z $apt_updated ]]; then apt-get update -qq; apt_updated=1; fi
  apt-get install -y -qq --no-install-recommends "$@"
}

section "Tools"
CHROMIUM_BIN=${CHROMIUM_BIN:-/usr/bin/chromium}
if [[ ! -x $CHROMIUM_BIN ]]; then
  echo "installing chromium"
  apt_install chromium
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "installing nodejs and npm"
  apt_install nodejs npm
fi
# The gateway tests (tests/api/nginx.rs) put a real nginx in front of Portal.
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
if [[ ! -x $NGINX_BIN ]]; then
  echo "installing nginx"
  apt_install nginx
fi
nginx_build=$("$NGINX_BIN" -V 2>&1 || true)
if [[ $nginx_build != *--with-http_auth_request_module* ]]; then
  echo "$NGINX_BIN lacks the auth_request module the gateway tests need" >&2
  exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if (( node_major < 20 )); then
  echo "Node.js $(node --version) is too old: playwright-core needs 20 or later" >&2
  exit 1
fi
echo "node $(node --version), $("$CHROMIUM_BIN" --version 2>/dev/null), $("$NGINX_BIN" -v 2>&1), $(cargo --version)"

section "Browser test dependencies (npm ci)"
# npm ci starts from scratch each time; skip it while the install still
# matches the lockfile so repeated local runs stay quick.
lock=tests/browser/package-lock.json
stamp=tests/browser/node_modules/.package-lock.json
if [[ -f $stamp && $stamp -nt $lock && $stamp -nt tests/browser/package.json ]]; then
  echo "node_modules is up to date"
else
  (cd tests/browser && npm ci --no-audit --no-fund)
fi

section "The management API's SDK (Python venv)"
# tests/api/sdk.rs drives Portal with the commercial service's official SDK.
venv=tests/sdk/.venv
if [[ ! -x $venv/bin/python ]]; then
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    apt_install python3-venv
  fi
  python3 -m venv "$venv"
fi
if [[ ! -f $venv/.installed || tests/sdk/requirements.txt -nt $venv/.installed ]]; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/sdk/requirements.txt
  touch "$venv/.installed"
fi
"$venv/bin/python" -c 'import azure.mgmt.apimanagement as m; print("azure-mgmt-apimanagement", m.VERSION)'

section "PostgreSQL (a throw-away cluster)"
# shellcheck source=tests/postgres.sh
source tests/postgres.sh
postgres_start
postgres_check_migrations

section "Format and lints (cargo fmt --check, cargo clippy -D warnings)"
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings

section "Rust tests (cargo test --all-targets)"
export NGINX_BIN
cargo test --all-targets

section "The HTTP integration tests again, on PostgreSQL (a database per test)"
PORTAL_TEST_DATABASE=postgres cargo test --test api

section "Build the portal binary"
cargo build --bin portal

section "Browser tests (node --test)"
# One file at a time: each starts its own portal and Chromium, and two of
# those at once on a 2-core machine makes timings flaky.
export CHROMIUM_BIN PORTAL_BIN=${PORTAL_BIN:-${CARGO_TARGET_DIR:-target}/debug/portal}
node --test --test-concurrency=1 tests/browser/*.test.mjs

section "All tests passed"
