#!/usr/bin/env bash
# End-to-end: a real Paliadin process against the real local model (llama.cpp + SmolLM2),
# on a fresh SQLite file, with a bearer token made by `paliadin token create`.
# Then a graceful stop (SIGTERM).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mkdir -p .run

was_running=0
bash scripts/llama.sh status >/dev/null 2>&1 && was_running=1
bash scripts/llama.sh start >/dev/null
backend_url="$(bash scripts/llama.sh url)"

swift build --product paliadin
bin="$(swift build --show-bin-path)/paliadin"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
db="$(mktemp -d)/paliadin.sqlite"
log=".run/e2e-paliadin.log"

token="$(PALIADIN_DATABASE="$db" "$bin" token create --user e2e@example.com --label e2e 2>/dev/null)"
case "$token" in pal_*) ;; *) echo "[e2e] token create printed no token" >&2; exit 1 ;; esac
PALIADIN_BACKEND_URL="$backend_url" PALIADIN_OWNERS="e2e@example.com" PALIADIN_DATABASE="$db" \
    PALIADIN_LISTEN="127.0.0.1:$port" "$bin" serve > "$log" 2>&1 &
pid=$!
cleanup() {
    kill "$pid" 2>/dev/null || true
    [ "$was_running" = 1 ] || bash scripts/llama.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/paliadin/widget.js" 2>/dev/null && break
    sleep 0.1
done
echo "[e2e] Paliadin on 127.0.0.1:$port, model at $backend_url"
if ! PALIADIN_TOKEN="$token" python3 scripts/e2e_real_model.py 127.0.0.1 "$port"; then
    tail -n 30 "$log"
    exit 1
fi

kill -TERM "$pid"
for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
    echo "[e2e] Paliadin did not stop within 15 s of SIGTERM" >&2
    exit 1
fi
echo "[e2e] Paliadin stopped cleanly on SIGTERM"
