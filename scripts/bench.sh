#!/usr/bin/env bash
# `make bench`: builds Paliadin and the benchmark in release mode, then measures Paliadin
# against an in-process mock upstream, direct and through Paliadin side by side: added time
# to first content, concurrent paced streams, RSS, CPU per 1,000 turns, POST /turn rate, and
# the SQLite store alone. Writes .run/bench.json, .run/bench.md and BENCHMARKS.md.
#
#   scripts/bench.sh                          # everything (about 4 minutes)
#   scripts/bench.sh --quick                  # shorter runs, while developing
#   scripts/bench.sh --scenario ttft          # one scenario: ttft, streams, rss, cpu, post (comma-separated)
#   BENCH_OUT=.run/BENCHMARKS.md scripts/bench.sh --quick   # leave BENCHMARKS.md alone
#   BENCH_POSTGRES=0 scripts/bench.sh         # without the PostgreSQL run
#
# After the SQLite run, the POST /turn rate and the time to first content are measured again
# with Paliadin on PostgreSQL (the private server of scripts/postgres.sh, installed and started
# when missing; a fresh database `paliadin_bench`), and appended to the report.
#
# Any argument (and BENCH_ARGS, e.g. `make bench BENCH_ARGS=--quick`) is passed to
# paliadin-bench (`paliadin-bench --help` lists them).
set -euo pipefail
# shellcheck disable=SC2086
set -- ${BENCH_ARGS:-} "$@"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mkdir -p .run
out="${BENCH_OUT:-BENCHMARKS.md}"

# Thousands of streams need thousands of descriptors (client, mock and Paliadin each).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 20000 2>/dev/null || true

swift build -c release --product paliadin
swift build -c release --product paliadin-bench
bin="$(swift build -c release --show-bin-path)"

command=("$bin/paliadin-bench" --paliadin "$bin/paliadin" --json .run/bench.json --markdown .run/bench.md "$@")
echo "machine: $(nproc) cores, $(uname -srm); commit $(git rev-parse --short HEAD); open files $(ulimit -n)"
"${command[@]}" >/dev/null

postgres_part=""
if [ "${BENCH_POSTGRES:-1}" = 1 ]; then
    pg_started=0
    bash scripts/postgres.sh url >/dev/null 2>&1 || pg_started=1
    pg_url="$(bash scripts/postgres.sh start)"
    [ "$pg_started" = 0 ] || trap 'bash scripts/postgres.sh stop >/dev/null 2>&1 || true' EXIT
    psql="$(ls -d /usr/lib/postgresql/*/bin/psql | sort -V | tail -1)"
    "$psql" -q "$pg_url" -c "DROP DATABASE IF EXISTS paliadin_bench" -c "CREATE DATABASE paliadin_bench"
    quick=""
    for arg in "$@"; do [ "$arg" = "--quick" ] && quick="--quick"; done
    "$bin/paliadin-bench" --paliadin "$bin/paliadin" --postgres "${pg_url%/*}/paliadin_bench" --scenario ttft,post $quick \
        --json .run/bench-postgres.json --markdown .run/bench-postgres.md >/dev/null
    postgres_part=".run/bench-postgres.md"
fi
swift_version="$(swift --version 2>/dev/null | head -1)"
dirty=""
if ! git diff --quiet HEAD -- Sources Package.swift 2>/dev/null; then dirty=" (with uncommitted changes)"; fi
{
    echo "# Benchmarks"
    echo
    echo "Produced by \`make bench\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo
    echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(uname -srm), $(free -m | awk '/Mem:/ {print $2}') MiB RAM"
    echo "- commit: $(git rev-parse --short HEAD)$dirty; ${swift_version}; release build"
    echo "- command: \`scripts/bench.sh${*:+ $*}\` (runs \`paliadin-bench --paliadin .build/release/paliadin --json .run/bench.json --markdown .run/bench.md${*:+ $*}\`)"
    echo "- Paliadin: one \`paliadin serve\` child process, SQLite (WAL), every event persisted, dev mode, PALIADIN_BACKEND_CONNECTIONS=4096, no per-user limits"
    echo "- the mock upstream and the load client run in the bench process, one event loop thread each, on the same cores as Paliadin"
    echo
    cat .run/bench.md
    if [ -n "$postgres_part" ]; then
        echo
        echo "# On PostgreSQL"
        echo
        echo "The same client and mock, Paliadin on the private PostgreSQL of \`scripts/postgres.sh\` (same machine, fresh database, every event persisted): \`paliadin-bench --postgres URL --scenario ttft,post\`."
        echo
        sed -e 's/^## /### /' -e '/^### How it is measured/,$d' "$postgres_part"
    fi
    if [ -f Benchmarks/READING.md ]; then echo; cat Benchmarks/READING.md; fi
} >"$out"
cat "$out"
echo
echo "written: $out, .run/bench.json"
