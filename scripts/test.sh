#!/usr/bin/env bash
# `make test`: every test. Swift Testing suites (unit, store, routes, live SSE against an
# in-process mock upstream), the two backend parsers under libFuzzer, the web UI in
# headless Chromium against the mock upstream, the HTTP API against its OpenAPI document
# (Schemathesis), the PostgreSQL store and several instances on a private PostgreSQL, the
# CLI agent backend over a real local sshd, then an end-to-end turn and the chat page
# against the real local model.
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

echo "[test] fuzzing the SSE and stream-json parsers (libFuzzer, 30 s each)"
bash scripts/fuzz.sh

echo "[test] the web UI in headless Chromium (screenshots: .run/browser/)"
bash scripts/browser-tests.sh

echo "[test] the HTTP API against its OpenAPI document (Schemathesis)"
bash scripts/api-fuzz.sh

echo "[test] PostgreSQL: the store suite, and two instances sharing one database"
bash scripts/cluster-test.sh

echo "[test] the CLI agent backend over a real sshd on 127.0.0.1"
bash scripts/sshd-test.sh

echo "[test] waiting for the local model server install (log: .run/llama-install.log)"
if ! wait "$llama_install"; then
    tail -n 40 .run/llama-install.log
    echo "[test] installing the local model server failed" >&2
    exit 1
fi
# One model server for both real-model suites; stopped at the end if this run started it.
started_llama=0
bash scripts/llama.sh status >/dev/null 2>&1 || started_llama=1
bash scripts/llama.sh start >/dev/null
[ "$started_llama" = 0 ] || trap 'bash scripts/llama.sh stop >/dev/null 2>&1 || true' EXIT
bash scripts/e2e-real-model.sh
bash scripts/browser-smoke.sh
echo "[test] all tests passed"
