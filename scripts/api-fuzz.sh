#!/usr/bin/env bash
# The HTTP API against its OpenAPI document (Sources/PaliadinServer/Assets/openapi.json):
# Schemathesis (from PyPI, into .venv-test) sends generated valid and invalid requests to every
# operation of a real Paliadin (debug build, a fresh SQLite file, the in-process mock upstream
# as a process) and checks each answer: no server error, a documented status, content type,
# headers and body schema. Bounded: a fixed number of examples per operation and a seed.
# Part of `make test`. API_FUZZ_EXAMPLES=N changes the examples per operation (default 40).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mkdir -p .run

if [ ! -x .venv-test/bin/python ]; then python3 -m venv .venv-test; fi
if ! .venv-test/bin/python -c 'import schemathesis' 2>/dev/null; then
    echo "[api] installing schemathesis into .venv-test"
    .venv-test/bin/pip install -q 'schemathesis==4.*'
fi

for product in paliadin paliadin-mock-upstream; do
    swift build --product "$product" > .run/api-fuzz-build.log 2>&1 || { tail -n 30 .run/api-fuzz-build.log; exit 1; }
done
bin="$(swift build --show-bin-path)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mock_port="$(free_port)"
port="$(free_port)"
folder="$(mktemp -d)"
"$bin/paliadin-mock-upstream" --port "$mock_port" > .run/api-fuzz-mock.log 2>&1 &
mock_pid=$!
token="$(PALIADIN_DATABASE="$folder/paliadin.sqlite" "$bin/paliadin" token create --user api@example.com --label fuzz 2>/dev/null)"
# Every optional route exists (session sign-in, logout, CORS); no per-user limits, so the
# generated turns exercise the engine rather than the 429 path; a short silence limit bounds
# any stream a generated message keeps open.
PALIADIN_OWNERS="api@example.com" PALIADIN_DATABASE="$folder/paliadin.sqlite" PALIADIN_LISTEN="127.0.0.1:$port" \
    PALIADIN_BACKEND_URL="http://127.0.0.1:$mock_port/v1" PALIADIN_SESSION_KEY="$(head -c 48 /dev/urandom | base64 | tr -d '\n')" \
    PALIADIN_CORS_ORIGINS="https://tools.example" PALIADIN_USER_TURNS_PER_MINUTE=0 PALIADIN_USER_CONCURRENT_TURNS=0 \
    PALIADIN_SILENCE_TIMEOUT=5s PALIADIN_TURN_DEADLINE=20s "$bin/paliadin" serve > .run/api-fuzz-paliadin.log 2>&1 &
pid=$!
trap 'kill "$pid" "$mock_pid" 2>/dev/null || true; rm -rf "$folder"' EXIT
for _ in $(seq 1 200); do
    curl -fs "http://127.0.0.1:$port/paliadin/widget.js" > /dev/null 2>&1 && break
    sleep 0.1
done

echo "[api] schemathesis against the OpenAPI document"
started=$(date +%s)
timeout 600 .venv-test/bin/schemathesis run Sources/PaliadinServer/Assets/openapi.json \
    --url "http://127.0.0.1:$port" -H "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --max-examples "${API_FUZZ_EXAMPLES:-40}" --seed 20261125 --request-timeout 30 \
    --report junit --report-junit-path .run/api-fuzz-junit.xml
kill -0 "$pid" 2>/dev/null || { echo "[api] Paliadin died during the run"; tail -n 30 .run/api-fuzz-paliadin.log; exit 1; }
echo "[api] passed in $(( $(date +%s) - started )) s; Paliadin still up"
