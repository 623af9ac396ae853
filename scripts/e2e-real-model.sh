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

# The terminal client against the real model: what it prints is the stored answer, once.
if ! PALIADIN_SERVER="http://127.0.0.1:$port" PALIADIN_TOKEN="$token" "$bin" chat --session e2e-chat \
        "Say hello in five words." > .run/e2e-chat.out 2> .run/e2e-chat.err; then
    echo "[e2e] paliadin chat failed:" >&2; cat .run/e2e-chat.err >&2; exit 1
fi
curl -fsS "http://127.0.0.1:$port/api/paliadin/history?session=e2e-chat" -H "Authorization: Bearer $token" |
    python3 -c '
import json, sys
rows = json.load(sys.stdin)
printed = open(".run/e2e-chat.out", encoding="utf-8").read()
assert len(rows) == 1 and rows[0]["status"] == "completed", rows
assert rows[0]["response"] and printed == rows[0]["response"] + "\n", (printed, rows[0]["response"])
print(f"[e2e] paliadin chat printed the stored answer ({len(printed) - 1} characters)")'

# The audit log from the command line, read beside the running server.
PALIADIN_DATABASE="$db" "$bin" turns export --since 1h --events > .run/e2e-export.jsonl 2>/dev/null
python3 - <<'PY'
import json
lines = [json.loads(line) for line in open(".run/e2e-export.jsonl", encoding="utf-8")]
assert lines and all(row["events"][0]["event"] == "meta" for row in lines), "export without event logs"
assert any(row["session_id"] == "e2e-chat" for row in lines), "the chat turn is not in the export"
print(f"[e2e] paliadin turns export: {len(lines)} turns as JSON Lines")
PY
PALIADIN_DATABASE="$db" "$bin" turns list | grep -q "completed" || { echo "[e2e] paliadin turns list shows no turn" >&2; exit 1; }

# config check: the effective configuration of a file, and a mistake refused.
config_dir="$(mktemp -d)"
printf 'listen: 127.0.0.1:%s\nbackend_url: %s\nowners: [e2e@example.com]\nsession_key: a-session-key-of-at-least-32-bytes-0123\n' \
    "$port" "$backend_url" > "$config_dir/paliadin.yaml"
"$bin" config check --config "$config_dir/paliadin.yaml" > .run/e2e-config.txt 2>/dev/null
grep -q "^owners: *\"e2e@example.com\" *# file" .run/e2e-config.txt || { echo "[e2e] config check output:" >&2; cat .run/e2e-config.txt >&2; exit 1; }
if grep -q "a-session-key-of-at-least" .run/e2e-config.txt; then echo "[e2e] config check showed a secret" >&2; exit 1; fi
printf 'lisen: 127.0.0.1:1\n' > "$config_dir/bad.yaml"
if "$bin" config check --config "$config_dir/bad.yaml" > /dev/null 2> .run/e2e-config.err; then
    echo "[e2e] config check accepted an unknown key" >&2; exit 1
fi
grep -q "did you mean 'listen'" .run/e2e-config.err || { cat .run/e2e-config.err >&2; exit 1; }
echo "[e2e] paliadin config check: effective configuration shown, secrets hidden, an unknown key refused"

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
