#!/usr/bin/env bash
# `make test`: every test. Swift Testing suites (unit, store, routes, live SSE against an
# in-process mock upstream), then an end-to-end turn against the real local model.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mkdir -p .run

# The model server's first install is a long source build: start it beside the Swift build.
bash scripts/llama.sh install > .run/llama-install.log 2>&1 &
llama_install=$!

echo "[test] building and running the Swift test suites"
swift build --build-tests
swift test

echo "[test] waiting for the local model server install (log: .run/llama-install.log)"
if ! wait "$llama_install"; then
    tail -n 40 .run/llama-install.log
    echo "[test] installing the local model server failed" >&2
    exit 1
fi
bash scripts/e2e-real-model.sh
echo "[test] all tests passed"
