#!/usr/bin/env bash
# The PostgreSQL suites (part of `make test`): the store suite on PostgreSQL, then two real
# Paliadin processes sharing one database (stream and resume across instances, stop from the
# other instance, kill -9 of an instance, a database restart). Starts the private PostgreSQL of
# scripts/postgres.sh (installing it when missing) and stops it again if this run started it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mkdir -p .run

say() { echo "[postgres-tests] $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

started=0
bash scripts/postgres.sh url >/dev/null 2>&1 || started=1
url="$(bash scripts/postgres.sh start)"
[ "$started" = 0 ] || trap 'bash scripts/postgres.sh stop >/dev/null 2>&1 || true' EXIT
export PALIADIN_TEST_POSTGRES_URL="$url"

say "building"
swift build --build-tests
PALIADIN_BINARY="$(swift build --show-bin-path)/paliadin"
export PALIADIN_BINARY

# Each part in its own run: the cluster suite restarts the database server, which must not
# happen under the store suite's feet.
run_part() {
    local filter="$1" suite="$2" log=".run/postgres-tests-$1.log"
    say "running swift test --filter $filter"
    set +e
    swift test --skip-build --filter "$filter" 2>&1 | tee "$log"
    local status=${PIPESTATUS[0]}
    set -e
    [ "$status" = 0 ] || fail "$filter failed (exit status $status)"
    grep -q "Suite \"$suite\" passed" "$log" || fail "the suite \"$suite\" did not run (skipped?)"
}
run_part PaliadinStoreTests "PostgreSQL shared store"
run_part PaliadinClusterTests "Several instances on one PostgreSQL"
say "passed"
