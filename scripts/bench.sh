#!/usr/bin/env bash
# `make bench`: builds Paliadin and the benchmark in release mode and measures the time to
# first content through Paliadin against the same mock upstream directly, interleaved; then
# the SQLite store's own latencies. Results: .run/bench.json and the tables printed here.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mkdir -p .run
swift build -c release --product paliadin
swift build -c release --product paliadin-bench
bin="$(swift build -c release --show-bin-path)"
echo "machine: $(nproc) cores, $(uname -srm); commit $(git rev-parse --short HEAD)"
"$bin/paliadin-bench" --paliadin "$bin/paliadin" --iterations "${BENCH_ITERATIONS:-300}" --json .run/bench.json
echo
"$bin/paliadin-bench" --paliadin "$bin/paliadin" --store-only --iterations 500
