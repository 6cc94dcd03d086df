#!/usr/bin/env bash
# The bad-input sweep (tests/api/sweep.rs, test `sweep_full`): as an
# administrator, a developer and a visitor, post generated bad input to every
# POST route of the console and the portal, and check that nothing answers
# 5xx, every change has exactly one audit record, nothing changes that the
# request may not change, and the database passes PRAGMA integrity_check.
# Prints a table of the answers per route family, role, route and kind of
# input, then every violation. See benches/README.md.
#
#   benches/sweep.sh                               # 10,000 cases, seed 1
#   SWEEP_CASES=50000 SWEEP_SEED=7 benches/sweep.sh
#   SWEEP_TRACE=1 benches/sweep.sh 2>trace.log     # every case as answered
#
# The exit status is the test's: non-zero when the sweep found a violation.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export SWEEP_CASES=${SWEEP_CASES:-10000}
export SWEEP_SEED=${SWEEP_SEED:-1}
export RUST_BACKTRACE=${RUST_BACKTRACE:-0}

echo "sweep: $SWEEP_CASES cases, seed $SWEEP_SEED (cargo test --test api sweep_full)"
exec cargo test --test api sweep_full -- --ignored --nocapture
