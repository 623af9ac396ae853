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
export PALIADIN_SHUTDOWN_GRACE=1s
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

# Graceful stop in the middle of a turn: the reader gets its last frame (end, or error
# "interrupted" once the grace period is over), the process exits, and after a restart the
# row is closed with its partial text.
turn_id="$(curl -fsS -X POST "http://127.0.0.1:$port/api/paliadin/turn" -H "Authorization: Bearer $token" \
    -H 'content-type: application/json' \
    -d '{"user_message":"Write a long story about a lighthouse keeper, at least 400 words.","session_id":"e2e-stop"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["turn_id"])')"
stream_file=".run/e2e-stop-stream.txt"
curl -sN "http://127.0.0.1:$port/api/paliadin/stream/$turn_id" -H "Authorization: Bearer $token" > "$stream_file" &
reader=$!
sleep 1
kill -TERM "$pid"
for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
    echo "[e2e] Paliadin did not stop within 15 s of SIGTERM" >&2
    exit 1
fi
wait "$reader" || true
last_event="$(grep '^event: ' "$stream_file" | grep -v 'event: ping' | tail -n 1)"
case "$last_event" in
    "event: end") outcome="completed within the grace period" ;;
    "event: error") grep -q '"code":"interrupted"' "$stream_file" || { echo "[e2e] unexpected error frame" >&2; tail -n 3 "$stream_file"; exit 1; }
                    outcome="interrupted after the grace period" ;;
    *) echo "[e2e] the reader got no last frame (last: '$last_event')" >&2; exit 1 ;;
esac
echo "[e2e] SIGTERM mid-turn: the reader's stream ended cleanly ($outcome)"

PALIADIN_BACKEND_URL="$backend_url" PALIADIN_OWNERS="e2e@example.com" PALIADIN_DATABASE="$db" \
    PALIADIN_LISTEN="127.0.0.1:$port" "$bin" serve >> "$log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/paliadin/widget.js" 2>/dev/null && break
    sleep 0.1
done
row="$(curl -fsS "http://127.0.0.1:$port/api/paliadin/turn/$turn_id" -H "Authorization: Bearer $token")"
echo "$row" | python3 -c '
import json, sys
row = json.load(sys.stdin)
assert row["status"] in ("completed", "interrupted"), row["status"]
assert row["response"], "the partial text was lost"
status, kept = row["status"], len(row["response"])
print(f"[e2e] after restart the turn is {status} with {kept} characters kept")'
kill -TERM "$pid"
