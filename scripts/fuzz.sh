#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, with AddressSanitizer) of the two parsers that read
# what a backend sends: the upstream Server-Sent Events parser and the stream-json line
# parser of the CLI agent backend. Each target runs for FUZZ_SECONDS (default 30) from the
# committed seed corpus in Fuzz/corpus; what it learns stays in .run/fuzz (git-ignored).
# A crash, a failed check, a leak, a slow input (> 5 s) or memory over 1 GiB fails the run;
# the input that did it is kept in .run/fuzz/artifacts.
#
#   bash scripts/fuzz.sh            both targets, 30 s each (part of `make test`)
#   FUZZ_SECONDS=600 bash scripts/fuzz.sh
set -euo pipefail
# Swift's own crash handler would run under AddressSanitizer and hide the real report.
export SWIFT_BACKTRACE=enable=no
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
seconds="${FUZZ_SECONDS:-30}"
build=".build-fuzz"
work=".run/fuzz"
mkdir -p "$build" "$work/artifacts"

say() { echo "[fuzz] $*"; }

# One module per target, built straight from the package's sources: the targets reach the
# parsers' internal types, and the package itself is not built with the fuzzer runtime.
compile() {
    local name="$1"; shift
    local binary="$build/$name"
    local newest
    newest="$(ls -t "$@" | head -n 1)"
    if [ -x "$binary" ] && [ "$binary" -nt "$newest" ]; then return; fi
    say "building $name"
    # The sources' own `import PaliadinCore` names the module being built: swiftc ignores it with a warning.
    if ! swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name PaliadinCore \
        -suppress-warnings -o "$binary" "$@" >"$work/build-$name.log" 2>&1; then
        grep -v "Cannot export local symbol" "$work/build-$name.log" | tail -n 40
        say "building $name FAILED"
        exit 1
    fi
}

run() {
    local name="$1" dict="$2"
    local corpus="$work/corpus-$name"
    mkdir -p "$corpus"
    say "running $name for ${seconds} s"
    local log="$work/$name.log"
    set +e
    "$build/$name" "$corpus" "Fuzz/corpus/$name" -dict="$dict" -max_total_time="$seconds" -timeout=5 \
        -rss_limit_mb=1024 -max_len=16384 -print_final_stats=1 -artifact_prefix="$work/artifacts/$name-" \
        >"$log" 2>&1
    local status=$?
    set -e
    if [ "$status" != 0 ]; then
        tail -n 60 "$log"
        say "$name FAILED (exit status $status); the input is in $work/artifacts/"
        exit 1
    fi
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$log" | sed "s/^/[fuzz] $name: /"
}

core=(Sources/PaliadinCore/*.swift)
compile sse "${core[@]}" Fuzz/FuzzSupport.swift Fuzz/ServerSentEventParserFuzz.swift
compile stream-json "${core[@]}" Sources/PaliadinBackends/ClaudeStreamJSON.swift Fuzz/FuzzSupport.swift Fuzz/ClaudeStreamJSONFuzz.swift
run sse Fuzz/sse.dict
run stream-json Fuzz/stream-json.dict
say "passed"
